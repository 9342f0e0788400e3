"""The tracking service: app factory and lifespan (runtime and the background workers)."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from pathlib import Path

import structlog
from fastapi import FastAPI

from esign.clock import SYSTEM_CLOCK, Clock
from esign.periodic import PeriodicWorker
from esign.service import ServiceDefinition, ServiceRuntime, create_service_app, token_verifier_from
from services.tracking.adapters import orm
from services.tracking.adapters.carriers import HttpCarrier, SimulatedCarrier
from services.tracking.adapters.event_mapping import ShipmentEventMapping
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.api import operator, public, webhooks
from services.tracking.api.errors import install_error_handlers
from services.tracking.api.problem_texts import TURKISH
from services.tracking.config import TrackingSettings
from services.tracking.consumers import consumer_specs
from services.tracking.domain.carrier import Carrier
from services.tracking.handlers import simulation
from services.tracking.handlers.carrier_events import WebhookPolicy, adopt_orphaned_reports
from services.tracking.handlers.retention import erase_delivered_recipients
from services.tracking.handlers.shipments import RegistrationPolicy, register_due
from services.tracking.handlers.stuck import flag_stuck

log = structlog.get_logger("tracking")

DEFINITION = ServiceDefinition(
    name="tracking",
    tables=orm.messaging,
    migrations_dir=Path(__file__).parent / "migrations",
    uow_class=TrackingUnitOfWork,
    consumers=consumer_specs,
    problem_texts=TURKISH,
)

DESCRIPTION = """
Shipping the smart card and card reader to the holder: a shipment per produced certificate,
registered with the carrier (simulated locally, or a generic HTTP carrier), followed through the
carrier's HMAC-signed status webhooks, answered publicly on the "Gönderi Sorgulama" page
(tracking number + last four mobile digits), and watched by CA operators, including shipments
stuck beyond the promised working days. Errors are RFC 9457 problem details.
"""


class Workers:
    """The service's background work, each step one short function of the clock (tests call them
    through ``app.state.workers``); a shipment added by a consumed event or an operator wakes the
    registrar after its commit (``wake_registrar``)."""

    def __init__(
        self,
        *,
        runtime: ServiceRuntime[TrackingUnitOfWork, Workers],
        settings: TrackingSettings,
        carrier: Carrier,
        simulated: SimulatedCarrier | None,
        policy: WebhookPolicy,
        clock: Clock,
    ) -> None:
        self.runtime, self.settings, self.carrier, self.simulated, self.policy, self.clock = (
            runtime,
            settings,
            carrier,
            simulated,
            policy,
            clock,
        )
        self.registration = RegistrationPolicy(
            lease=timedelta(seconds=settings.registration_lease_seconds), batch=settings.registration_batch
        )
        self.registrar = PeriodicWorker("carrier-registration", self.register, interval=2.0)
        if isinstance(carrier, HttpCarrier):
            runtime.on_stop(carrier.aclose)

    @property
    def carrier_name(self) -> str:
        """What the holder is told the carrier is called."""
        return self.settings.carrier_name(self.carrier.name)

    def wake_registrar(self) -> None:
        self.registrar.wake()

    def start(self) -> None:
        runtime, settings = self.runtime, self.settings
        runtime.spawn(self.registrar.run(), "carrier-registration")
        runtime.spawn(
            PeriodicWorker("stuck-detector", self.detect_stuck, settings.stuck_check_seconds).run(), "stuck-detector"
        )
        runtime.spawn(PeriodicWorker("housekeeping", self.housekeeping, 60.0).run(), "housekeeping")
        erasure = PeriodicWorker("recipient-erasure", self.erase_recipients, settings.retention_interval_seconds)
        runtime.spawn(erasure.run(), "recipient-erasure")
        if self.simulated is not None and settings.simulated_step_seconds > 0:
            step = max(1.0, settings.simulated_step_seconds / 4)
            runtime.spawn(PeriodicWorker("simulated-courier", self.simulate, step).run(), "simulated-courier")

    def uow(self) -> TrackingUnitOfWork:
        return self.runtime.uow()

    async def register(self) -> int:
        return await register_due(self.uow, carrier=self.carrier, policy=self.registration, clock=self.clock)

    async def simulate(self) -> int:
        assert self.simulated is not None
        async with self.uow() as uow:
            moved = await simulation.tick(
                uow,
                policy=self.policy,
                courier=self.simulated,
                step=timedelta(seconds=self.settings.simulated_step_seconds),
                clock=self.clock,
            )
            await uow.commit()
        return 0 if moved < 50 else moved  # a full batch: there may be more at once

    async def detect_stuck(self) -> int:
        async with self.uow() as uow:
            flagged = await flag_stuck(uow, clock=self.clock, working_days=self.settings.stuck_after_working_days)
            await uow.commit()
        return flagged if flagged >= 100 else 0

    async def erase_recipients(self) -> int:
        async with self.uow() as uow:
            return await erase_delivered_recipients(
                uow, clock=self.clock, keep=timedelta(days=self.settings.recipient_keep_days)
            )

    async def housekeeping(self) -> int:
        """Applies reports that lost the race with their shipment's registration; forgets webhook
        receipts and rate-limit windows nobody needs any more."""
        async with self.uow() as uow:
            await adopt_orphaned_reports(uow, self.carrier.name)
            await uow.commit()
        now = self.clock.now()
        keep = timedelta(
            seconds=max(
                2 * self.settings.webhook_tolerance_seconds,
                self.settings.public_query_window_seconds,
                self.settings.public_query_number_window_seconds,
            )
        )
        async with self.uow() as uow:
            await uow.webhook_receipts.purge(now - keep)
            await uow.rate_limits.purge(now - keep)
            await uow.commit()
        return 0


def _carrier(settings: TrackingSettings, webhook_secret: bytes) -> tuple[Carrier, SimulatedCarrier | None]:
    if settings.carrier == "simulated":
        simulated = SimulatedCarrier(webhook_secret)
        return simulated, simulated
    if not settings.carrier_http_url or settings.webhook_secret is None:
        raise ValueError("carrier=http needs ESIGN_TRACKING_CARRIER_HTTP_URL and ESIGN_TRACKING_WEBHOOK_SECRET")
    api_key = settings.carrier_http_api_key.get_secret_value() if settings.carrier_http_api_key else None
    return HttpCarrier(settings.carrier_http_url, api_key=api_key, timeout=settings.carrier_http_timeout_seconds), None


def create_app(settings: TrackingSettings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or TrackingSettings()
    if settings.webhook_secret is None:
        log.warning("webhook_secret_unset", detail="random per process; only the simulated carrier can sign webhooks")
        webhook_secret = secrets.token_bytes(32)
    else:
        webhook_secret = settings.webhook_secret.get_secret_value().encode()
    carrier, simulated = _carrier(settings, webhook_secret)
    policy = WebhookPolicy(
        carrier=carrier.name, secret=webhook_secret, tolerance_seconds=settings.webhook_tolerance_seconds
    )
    # The hand-over event links to the public query page, whose address is configured.
    definition = dataclasses.replace(DEFINITION, event_mapper=ShipmentEventMapping(settings.public_query_url))

    def workers(runtime: ServiceRuntime[TrackingUnitOfWork, Workers]) -> Workers:
        return Workers(
            runtime=runtime, settings=settings, carrier=carrier, simulated=simulated, policy=policy, clock=clock
        )

    app = create_service_app(
        definition,
        settings,
        title="esign tracking",
        description=DESCRIPTION,
        routers=[operator.router, webhooks.router, public.router],
        token_verifier=token_verifier_from(settings),
        workers=workers,
        # The carrier's webhook checks its signature before it reads its body (esign.safe_json).
        raw_json_paths=[webhooks.WEBHOOK_PATH],
        clock=clock,
    )
    app.state.webhook_policy = policy
    app.state.simulated_carrier = simulated
    install_error_handlers(app)
    return app
