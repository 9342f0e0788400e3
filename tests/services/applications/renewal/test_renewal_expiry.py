"""Renewals that stall expire (the background worker's step, run here with the app's clock moved
forward): a draft never e-approved frees the certificate for a new renewal; a filed renewal whose
Renewal Form link ran out long ago stops waiting."""

from __future__ import annotations

from datetime import timedelta

from tests.support.renewal import e_approved, holder_session, produced_holders, sign_in


async def test_stalled_renewals_expire(client, auth, applications_clock, applications_app, flow_module):
    draft_holder, filed_holder = await produced_holders(flow_module.flow, flow_module.ca, 2, base=3000)
    first = (await sign_in(client, draft_holder.card)).json()["renewal_id"]
    headers = await holder_session(client, filed_holder.card)
    filed_id = (await e_approved(client, filed_holder.card, headers))["id"]
    r = await client.post(
        f"/v1/institutions/{filed_holder.institution_id}/renewal-batches",
        json={"renewal_ids": [filed_id]},
        headers=auth.officer(filed_holder.institution_id),
    )
    assert r.status_code == 201, r.text

    assert await applications_app.state.workers.expire_renewals() == 0  # nothing is stale yet
    applications_clock.offset = timedelta(days=8)
    try:
        await applications_app.state.workers.expire_renewals()
        statuses = await _statuses(client, auth, [first, filed_id])
        assert statuses == {first: "expired", filed_id: "filed"}  # the officer can still re-send

        applications_clock.offset = timedelta(days=14 + 31)
        await applications_app.state.workers.expire_renewals()
        assert (await _statuses(client, auth, [filed_id]))[filed_id] == "expired"
    finally:
        applications_clock.offset = timedelta()
    # The expired draft no longer blocks the certificate (signed in at today's date: a week on,
    # the test CRL would be past its nextUpdate, and a stale CRL is refused).
    again = await sign_in(client, draft_holder.card)
    assert again.status_code == 201 and again.json()["renewal_id"] != first
    history = await client.get(f"/v1/applications/{first}/history", headers=auth.operator())
    assert history.json()[-1]["to_status"] == "expired" and history.json()[-1]["actor_role"] == "system"


async def _statuses(client, auth, ids: list[str]) -> dict[str, str]:
    out = {}
    for renewal_id in ids:
        r = await client.get(f"/v1/applications/{renewal_id}", headers=auth.operator())
        out[renewal_id] = r.json()["status"]
    return out
