"""The generic HTTP carrier against a real HTTP server, and the registration worker that uses it:
the shipment id is the idempotency key, failures are retried with backoff, a worker that died
holding a lease is replaced once the lease runs out, and the carrier registers the parcel once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from esign.embedded import free_port
from esign.events import Envelope
from services.tracking.adapters.carriers import HttpCarrier
from services.tracking.adapters.repositories.carrier_events import CarrierEventRecord
from services.tracking.adapters.repositories.shipments import ShipmentFilter
from services.tracking.domain.carrier import CarrierError, Parcel
from services.tracking.domain.shipment import Status
from services.tracking.handlers.carrier_events import (
    CarrierReport,
    WebhookPolicy,
    record_report,
)
from services.tracking.handlers.shipments import (
    RegistrationPolicy,
    on_certificate_produced,
    register_due,
)
from tests.support.clock import SettableClock
from tests.support.tracking import CarrierStub, produced


@pytest.fixture(scope="module")
async def stub():
    server = await CarrierStub().start()
    yield server
    await server.stop()


@pytest.fixture
def carrier(stub):
    stub.fail_with = None
    return HttpCarrier(stub.url, api_key=CarrierStub.API_KEY, timeout=5)


def parcel() -> Parcel:
    return Parcel(
        shipment_id=uuid.uuid4(),
        recipient_name="Ayşe Yılmaz",
        mobile="+905321234567",
        delivery_address={
            "line1": "Üniversite Cad. No: 1",
            "district": "Çankaya",
            "city": "Ankara",
            "postal_code": "06800",
        },
        contents={"card_type": "AKIS", "card_reader_type": "acr39u"},
    )


async def test_registering_posts_the_parcel_with_the_idempotency_key(stub, carrier):
    p = parcel()
    first = await carrier.register(p)
    again = await carrier.register(p)
    assert first == again
    call = stub.calls[-1]
    assert call["headers"]["idempotency-key"] == str(p.shipment_id)
    assert call["headers"]["authorization"] == f"Bearer {CarrierStub.API_KEY}"
    assert call["body"] == {
        "reference": str(p.shipment_id),
        "recipient": {"name": "Ayşe Yılmaz", "mobile": "+905321234567"},
        "address": p.delivery_address,
        "contents": p.contents,
        "id_check_required": True,
    }


@pytest.mark.parametrize("status,retryable", [(500, True), (503, True), (429, True), (422, False), (400, False)])
async def test_carrier_failures_say_whether_a_retry_can_help(stub, carrier, status, retryable):
    stub.fail_with = status
    with pytest.raises(CarrierError) as refused:
        await carrier.register(parcel())
    assert refused.value.retryable is retryable


async def test_an_unreachable_carrier_is_retryable():
    with pytest.raises(CarrierError) as refused:
        await HttpCarrier(f"http://127.0.0.1:{free_port()}", api_key="k", timeout=2).register(parcel())
    assert refused.value.retryable


async def new_http_shipment(tracking_app) -> uuid.UUID:
    """A shipment meant for the HTTP carrier, made by the consumer's handler (the running app's
    worker registers only its own carrier's shipments, so this one waits for ours)."""
    event = produced()
    async with tracking_app.state.runtime.uow() as uow:
        await on_certificate_produced(
            event, uow, meta=Envelope.wrap(event, "applications").meta, carrier="http", carrier_name="PTT Kargo"
        )
        await uow.commit()
    async with tracking_app.state.runtime.uow() as uow:
        page = await uow.shipments.page(ShipmentFilter(application_id=event.application_id), offset=0, limit=1)
    [shipment] = page.items
    return shipment.id


async def shipment_row(tracking_app, shipment_id):
    async with tracking_app.state.runtime.uow() as uow:
        return await uow.shipments.record(shipment_id)


def at(moment: datetime) -> SettableClock:
    """The workers' clock, stopped at ``moment``."""
    clock = SettableClock()
    clock.frozen = moment
    return clock


async def test_the_worker_retries_with_backoff_then_registers(stub, carrier, tracking_app):
    shipment_id = await new_http_shipment(tracking_app)
    now = datetime.now(timezone.utc) + timedelta(seconds=1)  # the workers' clock; the row became due at commit
    uow = tracking_app.state.runtime.uow
    policy = RegistrationPolicy(first_retry=timedelta(seconds=5))

    stub.fail_with = 503
    assert await register_due(uow, carrier=carrier, policy=policy, clock=at(now)) >= 1
    row = await shipment_row(tracking_app, shipment_id)
    assert row.tracking_number is None and row.registration_attempts == 1
    assert row.last_error == "carrier answered 503" and row.next_attempt_at == now + timedelta(seconds=5)

    stub.fail_with = None
    await register_due(uow, carrier=carrier, policy=policy, clock=at(now + timedelta(seconds=1)))  # not due yet
    assert (await shipment_row(tracking_app, shipment_id)).tracking_number is None
    await register_due(uow, carrier=carrier, policy=policy, clock=at(now + timedelta(seconds=6)))
    row = await shipment_row(tracking_app, shipment_id)
    assert row.tracking_number == stub.numbers[str(shipment_id)].upper()
    assert row.last_error is None and row.registration_attempts == 2


async def test_a_lease_left_by_a_dead_worker_runs_out_and_the_parcel_is_registered_once(stub, carrier, tracking_app):
    shipment_id = await new_http_shipment(tracking_app)
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    uow = tracking_app.state.runtime.uow
    policy = RegistrationPolicy(lease=timedelta(seconds=60))
    # A worker leased it, asked the carrier, and died before recording the answer.
    async with uow() as u:
        [leased] = [
            lease
            for lease in await u.shipments.lease_unregistered("http", now=now, lease=policy.lease, limit=100)
            if lease.parcel.shipment_id == shipment_id
        ]
        await u.commit()
    await carrier.register(leased.parcel)

    await register_due(
        uow, carrier=carrier, policy=policy, clock=at(now + timedelta(seconds=30))
    )  # another replica: still leased
    assert (await shipment_row(tracking_app, shipment_id)).tracking_number is None
    await register_due(uow, carrier=carrier, policy=policy, clock=at(now + timedelta(seconds=61)))
    row = await shipment_row(tracking_app, shipment_id)
    keys = [c["headers"]["idempotency-key"] for c in stub.calls if c["body"]["reference"] == str(shipment_id)]
    assert len(keys) == 2 and set(keys) == {str(shipment_id)}  # asked twice, with the same key...
    assert row.tracking_number == stub.numbers[str(shipment_id)].upper()  # ...one parcel, one number


async def test_a_report_that_beats_our_registration_is_applied_once_the_number_is_known(stub, carrier, tracking_app):
    """The carrier may call the webhook before our registration has committed its answer: the
    report is kept as unknown_shipment, then applied when the tracking number is recorded."""
    shipment_id = await new_http_shipment(tracking_app)
    async with tracking_app.state.runtime.uow() as uow:
        row = await uow.shipments.record(shipment_id)
    number = (
        await carrier.register(
            Parcel(
                shipment_id=row.id,
                recipient_name=row.recipient_name,
                mobile=row.mobile,
                delivery_address=row.delivery_address,
                contents=row.contents,
            )
        )
    ).upper()
    policy = WebhookPolicy(carrier="http", secret=b"unused", tolerance_seconds=300)
    raw = {
        "event_id": f"early-{uuid.uuid4().hex}",
        "tracking_number": number,
        "status": "PICKED_UP",
        "occurred_at": datetime.now(timezone.utc).isoformat(),
    }
    async with tracking_app.state.runtime.uow() as uow:
        assert (
            await record_report(CarrierReport.model_validate(raw), uow, raw=raw, policy=policy, clock=SettableClock())
            == "unknown_shipment"
        )
        await uow.commit()

    await register_due(
        tracking_app.state.runtime.uow, carrier=carrier, policy=RegistrationPolicy(), clock=SettableClock()
    )
    async with tracking_app.state.runtime.uow() as uow:
        shipment = await uow.shipments.get(shipment_id)
        [event] = await uow.carrier_events.for_shipment(shipment_id)
    assert shipment.tracking_number == number and shipment.status.value == "handed_to_courier"
    assert event.outcome == "applied" and event.raw == raw


async def test_a_report_that_lost_the_race_with_registration_is_adopted_by_housekeeping(stub, carrier, tracking_app):
    """Registered first, then a report stored as unknown_shipment (its transaction looked before the
    registration committed): the housekeeping pass applies it."""
    shipment_id = await new_http_shipment(tracking_app)
    await register_due(
        tracking_app.state.runtime.uow, carrier=carrier, policy=RegistrationPolicy(), clock=SettableClock()
    )
    raw = {
        "event_id": f"late-{uuid.uuid4().hex}",
        "tracking_number": stub.numbers[str(shipment_id)].upper(),
        "status": "DELIVERED",
        "occurred_at": datetime.now(timezone.utc).isoformat(),
    }
    async with tracking_app.state.runtime.uow() as uow:
        await uow.carrier_events.add(
            CarrierEventRecord(
                id=uuid.uuid4(),
                carrier="http",
                carrier_event_id=raw["event_id"],
                tracking_number=raw["tracking_number"],
                shipment_id=None,
                raw=raw,
                carrier_status="DELIVERED",
                status=Status.DELIVERED,
                occurred_at=datetime.fromisoformat(raw["occurred_at"]),
                outcome="unknown_shipment",
                received_at=datetime.now(timezone.utc),
            )
        )
        await uow.commit()
    workers = tracking_app.state.workers
    http_workers = type(workers)(
        runtime=workers.runtime,
        settings=workers.settings,
        carrier=carrier,
        simulated=None,
        policy=workers.policy,
        clock=workers.clock,
    )
    await http_workers.housekeeping()
    async with tracking_app.state.runtime.uow() as uow:
        shipment = await uow.shipments.get(shipment_id)
    assert shipment.status.value == "delivered"
