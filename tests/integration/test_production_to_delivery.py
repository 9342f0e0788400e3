"""End to end on real PostgreSQL and NATS JetStream, two services in one process talking only
through events: the CA records production in the applications service; the tracking service
turns the certificate.produced event into a shipment, registers it with the simulated carrier,
whose courier moves it on a timer through the signed webhook path; the applications service's
own consumer follows the tracking events until the application is delivered. The holder can
follow it on the public query meanwhile."""

from __future__ import annotations

from tests.support.applications import Flow, InvitationInbox, person
from tests.support.auth import Auth
from tests.support.tracking import eventually


async def test_a_produced_application_is_shipped_and_delivered(applications_client, tracking_client, integration_nc):
    auth = Auth()
    inbox = InvitationInbox(integration_nc)
    await inbox.start()
    try:
        flow = Flow(applications_client, auth, inbox)
        institution = await flow.institution()
        holder = person(4242)
        [invitation] = (await flow.invited(institution, [holder])).values()
    finally:
        await inbox.stop()
    application_id = invitation.application_id
    await flow.completed(invitation)
    await flow.received(institution, application_id)
    await flow.forwarded(institution, [application_id])
    await flow.produced(application_id)

    async def application_status(wanted: str):
        r = await applications_client.get(f"/v1/applications/{application_id}", headers=auth.operator())
        return r.json() if r.json()["status"] == wanted else None

    delivered = await eventually(
        lambda: application_status("delivered"), timeout=30, what="the application to be delivered"
    )

    r = await tracking_client.get("/v1/shipments", params={"application_id": application_id}, headers=auth.operator())
    [shipment] = r.json()["items"]
    assert shipment["status"] == "delivered" and shipment["city"] == "Ankara"
    history = await applications_client.get(f"/v1/applications/{application_id}/history", headers=auth.operator())
    steps = [t["to_status"] for t in history.json()]
    assert steps[-3:] == ["produced", "shipped", "delivered"]
    assert delivered["shipment"]["tracking_number"] == shipment["tracking_number"]
    assert delivered["shipment"]["carrier"] == "simulated"

    # The holder's view: tracking number + last four digits of the mobile on the form.
    r = await tracking_client.post(
        "/v1/public/shipment-queries",
        json={"tracking_number": shipment["tracking_number"], "mobile_last4": holder["mobile"][-4:]},
    )
    assert r.status_code == 200, r.text
    assert [s["status"] for s in r.json()["timeline"]] == [
        "created",
        "handed_to_courier",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
