"""What makes a FastAPI app an esign service: the runtime (database, NATS, outbox relay,
consumers) started in the lifespan, problem handlers, request logging, health and metrics,
the dead-letter endpoints, and the unit-of-work dependency that commits before responding."""

from __future__ import annotations

import asyncio
import gc
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request

from esign import jetstream, migrations
from esign.api_docs import api_docs_router
from esign.auth import TokenVerifier
from esign.clock import SYSTEM_CLOCK, Clock
from esign.consumer import ConsumerRunner, ConsumerSpec
from esign.db import make_engine, make_read_only_engine, make_session_factory
from esign.dead_letters import dead_letters_router
from esign.messaging_tables import MessagingTables
from esign.observability import configure_logging, health_router, install_request_middleware
from esign.outbox import OutboxRelay
from esign.periodic import PeriodicWorker
from esign.problem_language import ProblemTexts
from esign.problems import UnhandledErrors, document_problems, install_problem_handlers
from esign.request_guard import RequestGuard
from esign.retention import MessagingRetention
from esign.settings import ServiceSettings
from esign.uow import EventMapper, UnitOfWork

log = structlog.get_logger("esign.service")


class ServiceWorkers(Protocol):
    """A service's background work, built on the running service by the factory given to
    :func:`create_service_app`: its periodic workers and their wake-ups. Its consumers are declared
    from it (``ServiceDefinition.consumers``) and endpoints find it on ``app.state.workers``, so a
    commit can wake a worker (``uow.after_commit(workers.wake_...)``) in one way everywhere."""

    def start(self) -> None:
        """Spawns the workers on the runtime (only when the settings ask for background work)."""


W = TypeVar("W", bound=ServiceWorkers)
U = TypeVar("U", bound=UnitOfWork)


def no_consumers(workers: object) -> Sequence[ConsumerSpec]:
    return []


@dataclass
class ServiceDefinition(Generic[U, W]):
    """What a service is: ``U`` its unit of work, ``W`` its workers (:class:`ServiceWorkers`)."""

    name: str  # also the producer name and the stream's subject prefix
    tables: MessagingTables
    migrations_dir: Path
    # A class or a factory with the same parameters (e.g. a partial that adds a service's codec).
    uow_class: Callable[..., U]
    event_mapper: EventMapper | None = None
    # Which events of other services it takes: called with the service's workers when it starts,
    # so a handler can be given a wake-up or a setting (docs/architecture.md, "Events in").
    consumers: Callable[[W], Sequence[ConsumerSpec]] = no_consumers
    problem_texts: ProblemTexts | None = None  # Turkish texts of the service's own problem codes


class ServiceRuntime(Generic[U, W]):
    def __init__(
        self,
        definition: ServiceDefinition[U, W],
        settings: ServiceSettings,
        clock: Clock = SYSTEM_CLOCK,
        *,
        workers: Callable[[ServiceRuntime[U, W]], W],
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.clock = clock
        self._build_workers = workers
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[Any]] = []
        self.relay: OutboxRelay | None = None
        self.consumers: list[ConsumerRunner] = []

    async def start(self) -> None:
        s, d = self.settings, self.definition
        db_url, nats_url = s.backend_urls()  # refuses unless both are set or EPHEMERAL asks for stand-ins
        if db_url is None or nats_url is None:
            # Asked for (EPHEMERAL=true): a throwaway PostgreSQL / NATS, migrated, gone when we stop.
            # Imported only here: the embedded servers are the `dev` extra, which production lacks.
            from esign.embedded import EmbeddedNats, EmbeddedPostgres

            scratch = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix=f"esign-{d.name}-")))
            if db_url is None:
                pg = await asyncio.to_thread(EmbeddedPostgres(scratch / "pg", persistent=False).start)
                self._stack.callback(pg.stop)
                db_url = await asyncio.to_thread(pg.ensure_database, f"esign_{d.name}")
                await asyncio.to_thread(migrations.upgrade, d.migrations_dir, db_url)
            if nats_url is None:
                nats = await asyncio.to_thread(EmbeddedNats(scratch / "nats").start)
                self._stack.callback(nats.stop)
                nats_url = nats.url
        pools = {"pool_size": s.db_pool_size, "max_overflow": s.db_max_overflow}
        self.engine = make_engine(db_url, **pools)
        self._stack.push_async_callback(self.engine.dispose)
        self.session_factory = make_session_factory(self.engine)
        self.read_engine = make_read_only_engine(db_url, **pools)
        self._stack.push_async_callback(self.read_engine.dispose)
        self.read_session_factory = make_session_factory(self.read_engine)
        self.nc = await jetstream.connect(nats_url, name=f"esign-{d.name}")
        # Every publish is awaited (PubAck), so nothing is buffered: close rather than drain, which
        # would wait out its timeout on the consumers' open pull requests.
        self._stack.push_async_callback(self.nc.close)
        self.js = self.nc.jetstream()
        await jetstream.ensure_stream(
            self.js, d.name, replicas=s.stream_replicas, max_age=s.stream_max_age_days * 86400
        )
        self.relay = OutboxRelay(self.session_factory, d.tables, self.js, d.name, poll_interval=s.relay_poll_interval)
        # The workers first: the consumers' handlers may wake them after a commit.
        self.workers = self._build_workers(self)
        self.consumers = [
            ConsumerRunner(
                spec,
                self.js,
                self.uow,
                d.tables,
                max_deliver=s.consumer_max_deliver,
                ack_wait=s.consumer_ack_wait,
                outage_max_delay=s.consumer_outage_max_delay,
            )
            for spec in d.consumers(self.workers)
        ]
        self.messaging_retention = MessagingRetention(
            self.session_factory,
            d.tables,
            d.name,
            outbox_keep=timedelta(hours=s.outbox_keep_hours),
            processed_keep=timedelta(days=s.processed_events_keep_days),
            dead_letters_keep=timedelta(days=s.dead_letters_keep_days),
            clock=self.clock,
        )
        if s.run_background_workers:
            self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{d.name}-relay"))
            self._tasks += [asyncio.create_task(c.run(), name=f"{d.name}-{c.spec.name}") for c in self.consumers]
            retention = PeriodicWorker(
                "messaging-retention", self.messaging_retention.prune, s.retention_interval_seconds
            )
            self.spawn(retention.run(), f"{d.name}-messaging-retention")
            self.workers.start()

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> None:
        """Runs a background worker until the service stops."""
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    def on_stop(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Awaits ``callback()`` when the service stops, after its background workers (e.g. to close a client)."""
        self._stack.push_async_callback(callback)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._stack.aclose()

    def uow(self, *, read_only: bool = False) -> U:
        """``read_only``: on the read-only, autocommit connections (see
        :func:`esign.db.make_read_only_engine`); anything it tries to write fails."""
        d = self.definition
        return d.uow_class(
            self.read_session_factory if read_only else self.session_factory,
            d.tables,
            d.name,
            d.event_mapper,
            on_commit=self.relay.wake if self.relay else None,
            read_only=read_only,
        )

    async def check_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def check_nats(self) -> None:
        if not self.nc.is_connected:
            raise ConnectionError("NATS not connected")
        await self.js.stream_info(jetstream.stream_name(self.definition.name))


def token_verifier_from(settings: ServiceSettings, **extra_hs256_issuers: str) -> TokenVerifier:
    return TokenVerifier(
        audience=settings.jwt_audience,
        local_secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        oidc_issuer=settings.oidc_issuer,
        oidc_jwks_url=settings.oidc_jwks_url,
        role_claim=settings.oidc_role_claim,
        extra_hs256_issuers=extra_hs256_issuers,
    )


def install_api_layers(
    app: FastAPI,
    *,
    service: str,
    max_body_bytes: int,
    raw_json_paths: Sequence[str] = (),
    problem_texts: ProblemTexts | None = None,
) -> None:
    """What stands between the network and a service's routes, in every service the same way."""
    install_problem_handlers(app, problem_texts)
    document_problems(app)
    # Outermost last: request logging sees every answer, the catch-all sees every error, the guard
    # refuses hostile input before any route does.
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes, raw_json_paths=raw_json_paths)
    app.add_middleware(UnhandledErrors)
    install_request_middleware(app, service)


def settle_startup_heap() -> None:
    """Called once a process has started. What start-up made (modules, routes, metadata, compiled
    statements: ~185,000 objects for applications) lives as long as the process. Moved out of the
    collector's sight, a full collection no longer walks it: ~125 ms that stalled whichever request
    it landed on, and a fifth of a 10,000-row staff-list import. A benchmark that runs a service's
    code in its own process calls it too, so it measures that code as a service process runs it."""
    gc.collect()
    gc.freeze()


def create_service_app(
    definition: ServiceDefinition[U, W],
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    token_verifier: TokenVerifier,
    workers: Callable[[ServiceRuntime[U, W]], W],
    raw_json_paths: Sequence[str] = (),
    clock: Clock = SYSTEM_CLOCK,
) -> FastAPI:
    """``workers`` builds the service's background work on the running service (see
    :class:`ServiceWorkers`); ``raw_json_paths``: endpoints that read and check their JSON body
    themselves (see :mod:`esign.request_guard`)."""
    configure_logging(settings.log_level, settings.log_json)
    runtime = ServiceRuntime(definition, settings, clock, workers=workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        app.state.workers = runtime.workers
        settle_startup_heap()
        log.info("service_started", service=definition.name)
        try:
            yield
        finally:
            await runtime.stop()

    # The docs FastAPI would serve load Swagger UI from a CDN: the platform serves its own instead.
    app = FastAPI(
        title=title, description=description, version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.token_verifier = token_verifier
    app.state.clock = clock
    install_api_layers(
        app,
        service=definition.name,
        max_body_bytes=settings.max_body_bytes,
        raw_json_paths=raw_json_paths,
        problem_texts=definition.problem_texts,
    )
    app.include_router(health_router({"database": runtime.check_database, "nats": runtime.check_nats}))
    app.include_router(dead_letters_router(definition.name))
    app.include_router(api_docs_router(title))
    for router in routers:
        app.include_router(router)
    return app


_SAFE_METHODS = frozenset({"GET", "HEAD"})


async def _unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    # scope="function" below: the commit happens before the response is sent, so a client never
    # sees success for a change that failed to commit. Endpoints never commit themselves.
    # GET and HEAD only read (HTTP's safe methods): they run on read-only autocommit connections,
    # a third of the round trips; their commit sends nothing, but an event a read raised fails loudly.
    async with request.app.state.runtime.uow(read_only=request.method in _SAFE_METHODS) as uow:
        yield uow
        await uow.commit()


async def _read_only_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with request.app.state.runtime.uow(read_only=True) as uow:
        yield uow
        await uow.commit()  # nothing to commit; an event a read emitted fails here, loudly


def _clock(request: Request) -> Clock:
    return request.app.state.clock


# The service's clock (esign.clock): endpoints pass it on to handlers as `clock=`.
ClockDep = Annotated[Clock, Depends(_clock)]


# Services annotate their own UoW subclass with it: Annotated[MyUnitOfWork, unit_of_work].
unit_of_work = Depends(_unit_of_work, scope="function")
# For a POST that only reads (a query whose input must stay out of the URL): what GETs get.
read_only_unit_of_work = Depends(_read_only_unit_of_work, scope="function")
UnitOfWorkDep = Annotated[UnitOfWork, unit_of_work]
