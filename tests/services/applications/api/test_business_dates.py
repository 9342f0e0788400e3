"""Business dates are Istanbul calendar days, whatever the host's time zone (a container runs in
UTC). Issue 10: a signed form received between 00:00 and 03:00 Istanbul time was refused as "in
the future", because the check compared it with the host's date, still yesterday in UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from esign.clock import business_date
from tests.support.applications import person
from tests.support.clock import SettableClock

# 22:30 UTC on 10 March is 01:30 on 11 March in Istanbul (UTC+3 all year).
NIGHT_IN_ISTANBUL = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)


@pytest.fixture
def night(applications_clock: SettableClock) -> Iterator[SettableClock]:
    applications_clock.frozen = NIGHT_IN_ISTANBUL
    try:
        yield applications_clock
    finally:
        applications_clock.frozen = None


async def _signed_form(client, auth, institution: str, application_id: str, received_on: str):
    return await client.post(
        f"/v1/applications/{application_id}/signed-form",
        json={"channel": "paper", "received_on": received_on, "reference": "EVRAK-GECE"},
        headers=auth.officer(institution),
    )


async def test_a_form_received_after_midnight_in_istanbul_is_accepted_on_a_utc_host(flow, client, auth, night):
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(9301)]))["kisi9301@ornek.edu.tr"]
    await flow.completed(inv)

    tomorrow = await _signed_form(client, auth, institution, inv.application_id, "2026-03-12")
    assert tomorrow.status_code == 422, tomorrow.text  # the rule itself stands: not from the future
    assert tomorrow.json()["errors"][0]["code"] == "date_in_future"

    today = await _signed_form(client, auth, institution, inv.application_id, "2026-03-11")
    assert today.status_code == 200, today.text
    assert today.json()["status"] == "signed_form_received"


async def test_the_wall_clocks_istanbul_date_is_never_in_the_future(flow, client, auth, applications_clock):
    """With the real clock: on the old code this failed whenever the suite ran between 21:00 and
    24:00 UTC on a UTC host."""
    assert applications_clock.frozen is None
    institution = await flow.institution()
    inv = (await flow.invited(institution, [person(9302)]))["kisi9302@ornek.edu.tr"]
    await flow.completed(inv)
    today = business_date(datetime.now(UTC)).isoformat()
    r = await _signed_form(client, auth, institution, inv.application_id, today)
    assert r.status_code == 200, r.text
