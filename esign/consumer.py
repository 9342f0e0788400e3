"""JetStream consumer runner: durable pull consumers, explicit ack, bounded redelivery with
backoff, idempotent handling, dead letters an operator can see and replay.

Handling one message is one transaction: insert ``(consumer, event id)`` into
``processed_events`` and run the handler; if the id was already there the effect already
happened and the message is only acknowledged. Ack after commit: a crash between the two
redelivers the message, and the recorded id stops a second effect.

The messages of one fetch are applied together first, in their order, in one transaction (each
event's id and effect still commit together, just several at once): a backlog then costs a
transaction per batch rather than per event, which is what lets a consumer catch up. If anything
in the batch fails, the transaction is rolled back and each message goes through the one-by-one
path above, with its own retries and dead letter.

A consumer declares, per event class (:mod:`esign.events`), the handler that takes it
(:class:`ConsumerSpec`, :class:`Takes`). The runner reads each message once: the envelope, then its
data with that class; the handler gets the typed event and the envelope's metadata,
``handler(event, uow, *, meta)``. A message that does not read (no envelope, a type or version
nobody declared, data that does not fit) is an :class:`UnreadableEvent`: dead-lettered at once,
no retries, the handler never called.

A database outage is not the event's failure: when a handler fails as a lost connection would and
the database does not answer, the runner holds the messages in hand (telling JetStream they are in
progress), waits with a capped back-off until the database answers, and tries again; only failures
with the database up use up an event's deliveries (esign.outage).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from esign.events import Envelope, EventData, EventMeta
from esign.jetstream import stream_name
from esign.messaging_tables import PAYLOAD_REMOVED, MessagingTables
from esign.outage import database_answers, looks_like_connection_failure, wait_for_database
from esign.uow import UnitOfWork

log = structlog.get_logger("esign.consumer")

HANDLED = Counter("esign_events_handled_total", "Events handled", ["consumer", "outcome"])

E_contra = TypeVar("E_contra", bound=EventData, contravariant=True)
E = TypeVar("E", bound=EventData)


class EventHandler(Protocol[E_contra]):
    """``handler(event, uow, *, meta)``: the typed event, the consumer's unit of work (each service
    passes its own subclass, hence ``Any``) and the envelope's metadata."""

    def __call__(self, event: E_contra, uow: Any, /, *, meta: EventMeta) -> Awaitable[None]: ...


def describe_error(exc: Exception) -> str:
    """What an operator sees of a failure. Validation errors name fields and reasons but not the
    offending values, which may be personal data; the full message stays in the dead letter."""
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors(include_input=False))
        return f"unreadable event: {problems}"[:2000]
    if isinstance(exc, UnreadableEvent):
        return str(exc)[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


class PayloadRemoved(LookupError):
    """The dead letter's message was removed after its retention period: nothing to replay."""


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (the event contradicts our data)."""


class UnreadableEvent(PermanentFailure):
    """The message is not an event this consumer can read: no envelope, a type or version it does
    not take, or data that does not fit the declared class. Dead-lettered at once; the handler is
    never called. The text is :func:`describe_error`'s (field names and reasons, no values)."""

    def __init__(self, reason: str, event_id: uuid.UUID | None = None) -> None:
        super().__init__(reason)
        self.event_id = event_id


@dataclass(frozen=True)
class Takes(Generic[E]):
    """One line of a consumer's declaration: events of this class go to this handler. Generic, so
    the type checker holds the handler to the class it is declared for."""

    event: type[E]
    handler: EventHandler[E]


@dataclass(frozen=True)
class IncomingEvent:
    """A message read once: the typed event, its envelope's metadata and the handler that takes it."""

    event: EventData
    meta: EventMeta
    handler: EventHandler[Any]

    async def apply(self, uow: UnitOfWork) -> None:
        await self.handler(self.event, uow, meta=self.meta)


@dataclass
class ConsumerSpec:
    """A durable consumer: which producer's stream it reads and, per event class (its type and
    version), the handler that takes it. Declared by a service's ``consumers/`` and returned by
    its ``ServiceDefinition.consumers`` factory."""

    name: str  # durable consumer name, also the key in processed_events / dead_letters
    producer: str  # whose stream to read
    handlers: Sequence[Takes[Any]]
    backoff: list[float] = field(default_factory=lambda: [1, 5, 30, 120, 600])
    _routes: dict[tuple[str, int], Takes[Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._routes = {}
        for takes in self.handlers:
            key = (takes.event.type, takes.event.version)
            if key in self._routes:
                raise ValueError(f"{self.name}: two handlers for {key[0]} v{key[1]}")
            self._routes[key] = takes

    @property
    def subjects(self) -> list[str]:
        return sorted({event_type for event_type, _ in self._routes})

    def read(self, raw: bytes) -> IncomingEvent:
        """Parses the envelope and its data with the declared class, once; anything that does not
        parse is an :class:`UnreadableEvent`."""
        try:
            envelope = Envelope.model_validate_json(raw)
        except ValidationError as exc:
            raise UnreadableEvent(describe_error(exc)) from exc
        takes = self._routes.get((envelope.type, envelope.version))
        if takes is None:
            raise UnreadableEvent(f"unreadable event: no handler for {envelope.type} v{envelope.version}", envelope.id)
        try:
            data = takes.event.model_validate(envelope.data)
        except ValidationError as exc:
            raise UnreadableEvent(describe_error(exc), envelope.id) from exc
        return IncomingEvent(data, envelope.meta, takes.handler)


@functools.cache
def _first_time(processed_events: sa.Table) -> sa.Insert:
    """Records (consumer, event id) for a fetch's events, returning the ids not recorded before:
    one statement for a batch of any size, built once (``unnest`` of an array parameter instead
    of a VALUES list SQLAlchemy would build and coerce anew for every batch)."""
    event_ids = sa.func.unnest(sa.bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True))))
    rows = sa.select(sa.bindparam("consumer", type_=sa.Text), event_ids)
    return (
        pg_insert(processed_events)
        .from_select(["consumer", "event_id"], rows)
        .on_conflict_do_nothing()
        .returning(processed_events.c.event_id)
    )


class ConsumerRunner:
    def __init__(
        self,
        spec: ConsumerSpec,
        js: JetStreamContext,
        uow_factory: Callable[[], UnitOfWork],
        tables: MessagingTables,
        *,
        max_deliver: int = 6,
        ack_wait: float = 30.0,
        # Messages per fetch, applied in one transaction: per-transaction costs are spread over
        # more events (throughput 0.46x -> 0.71x raw in bench/events.py, p99 at 20 events/s 9 ->
        # 18 ms); a fetch returns what is there, it does not wait for a full batch.
        batch: int = 100,
        outage_max_delay: float = 10.0,
    ) -> None:
        self.spec = spec
        self._js = js
        self._uow_factory = uow_factory
        self._tables = tables
        self._max_deliver = max_deliver
        self._ack_wait = ack_wait
        self._batch = batch
        # Waiting out an outage, the messages in hand are marked in progress at least twice per
        # ack_wait, so JetStream neither redelivers them nor counts another delivery.
        self._outage_max_delay = min(outage_max_delay, ack_wait / 2)
        self._in_hand: list[Msg] = []

    async def ensure_consumer(self) -> None:
        config = ConsumerConfig(
            durable_name=self.spec.name,
            filter_subjects=self.spec.subjects,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait,
            # The runner dead-letters at max_deliver; the server's own limit is only a backstop.
            max_deliver=self._max_deliver + 2,
        )
        await self._js.add_consumer(stream_name(self.spec.producer), config)

    async def run(self) -> None:
        while True:
            try:
                await self.ensure_consumer()
                sub = await self._js.pull_subscribe_bind(durable=self.spec.name, stream=stream_name(self.spec.producer))
                try:
                    while True:
                        await self.poll(sub)
                finally:
                    await sub.unsubscribe()
            except asyncio.CancelledError:
                raise
            except NotFoundError:
                log.info("consumer_waiting_for_stream", consumer=self.spec.name, stream=stream_name(self.spec.producer))
                await asyncio.sleep(2)
            except Exception as exc:  # noqa: BLE001 - the pull loop must outlive any one failure
                log.warning("consumer_error", consumer=self.spec.name, error=type(exc).__name__)
                await asyncio.sleep(2)

    async def poll(self, sub: JetStreamContext.PullSubscription, timeout: float = 1.0) -> int:
        try:
            msgs = await sub.fetch(self._batch, timeout=timeout)
        except (TimeoutError, NatsTimeout):
            # nats-py's batch fetch also raises the plain asyncio.TimeoutError when its deadline runs
            # out between its two pull requests; that is an empty poll too, not a broken subscription.
            return 0
        self._in_hand = msgs
        if len(msgs) > 1 and await self.apply_batch(msgs):
            return len(msgs)
        for msg in msgs:
            await self.handle(msg)
        return len(msgs)

    async def apply_batch(self, msgs: list[Msg]) -> bool:
        """Applies every message of a fetch in one transaction and acks them; False (nothing
        committed, nothing acked) if any of them cannot be read or its handler fails."""
        pe = self._tables.processed_events
        try:
            incoming = [self.spec.read(msg.data) for msg in msgs]
            async with self._uow_factory() as uow:
                new_ids = set(
                    (
                        await uow.session.execute(
                            _first_time(pe), {"consumer": self.spec.name, "event_ids": [e.meta.id for e in incoming]}
                        )
                    ).scalars()
                )
                first_time = set(new_ids)
                for one in incoming:
                    if one.meta.id in first_time:
                        first_time.discard(one.meta.id)  # the same event twice in one fetch: once
                        await one.apply(uow)
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 - one of them is bad or failing: each takes its own path
            log.info("event_batch_split", consumer=self.spec.name, size=len(msgs), error=type(exc).__name__)
            return False
        for msg in msgs:
            await msg.ack()
        HANDLED.labels(self.spec.name, "applied").inc(len(new_ids))
        if len(msgs) > len(new_ids):
            HANDLED.labels(self.spec.name, "duplicate").inc(len(msgs) - len(new_ids))
        return True

    async def handle(self, msg: Msg) -> None:
        deliveries = msg.metadata.num_delivered
        try:
            incoming = self.spec.read(msg.data)  # unknown versions, malformed data: before any effect
        except UnreadableEvent as exc:
            await self._give_up(msg, exc.event_id, exc)
            return
        envelope = incoming.meta  # its id and type, for what the failure path records
        try:
            applied = await self.apply(incoming)
        except PermanentFailure as exc:
            await self._give_up(msg, envelope.id, exc)
            return
        except Exception as exc:  # noqa: BLE001 - any handler failure is a nak or, at the limit, a dead letter
            if await self._outlasted_database_outage(exc):
                await self.handle(msg)  # the database was away, not the event's fault: again, uncounted
                return
            if deliveries >= self._max_deliver:
                await self._give_up(msg, envelope.id, exc)
                return
            delay = self.spec.backoff[min(deliveries - 1, len(self.spec.backoff) - 1)]
            HANDLED.labels(self.spec.name, "retry").inc()
            log.warning(
                "event_retry",
                consumer=self.spec.name,
                event_id=str(envelope.id),
                type=envelope.type,
                deliveries=deliveries,
                delay=delay,
                error=type(exc).__name__,
            )
            await msg.nak(delay=delay)
            return
        HANDLED.labels(self.spec.name, "applied" if applied else "duplicate").inc()
        await msg.ack()

    async def apply(self, incoming: IncomingEvent) -> bool:
        """Runs the handler once per event id; returns False if it had already run."""
        pe = self._tables.processed_events
        async with self._uow_factory() as uow:
            first = await uow.session.execute(
                _first_time(pe), {"consumer": self.spec.name, "event_ids": [incoming.meta.id]}
            )
            if first.first() is None:
                return False
            await incoming.apply(uow)
            await uow.commit()
            return True

    async def _outlasted_database_outage(self, exc: Exception) -> bool:
        """True once the database answers again if ``exc`` came from its being unreachable; False
        at once if the failure was something else (the database answers)."""
        if not looks_like_connection_failure(exc) or await database_answers(self._select_one):
            return False

        async def keep_in_progress() -> None:
            for held in self._in_hand:
                try:
                    await held.in_progress()
                except Exception:  # noqa: BLE001 - acked already, or NATS away too: redelivery is safe
                    continue

        await wait_for_database(
            lambda: database_answers(self._select_one),
            worker=f"consumer {self.spec.name}",
            max_delay=self._outage_max_delay,
            while_waiting=keep_in_progress,
        )
        return True

    async def _select_one(self) -> None:
        async with self._uow_factory() as uow:
            await uow.session.execute(sa.text("SELECT 1"))

    async def _give_up(self, msg: Msg, event_id: uuid.UUID | None, exc: Exception) -> None:
        """Keeps the message for an operator, then acks it so it stops blocking the consumer."""
        HANDLED.labels(self.spec.name, "dead").inc()
        log.error(
            "event_dead_lettered",
            consumer=self.spec.name,
            subject=msg.subject,
            event_id=str(event_id) if event_id else None,
            deliveries=msg.metadata.num_delivered,
        )
        async with self._uow_factory() as uow:
            await uow.session.execute(
                sa.insert(self._tables.dead_letters).values(
                    id=uuid.uuid4(),
                    consumer=self.spec.name,
                    subject=msg.subject,
                    event_id=event_id,
                    payload=msg.data,
                    error=describe_error(exc),
                    deliveries=msg.metadata.num_delivered,
                )
            )
            await uow.commit()
        await msg.ack()

    async def replay(self, dead_letter_id: uuid.UUID) -> bool:
        """Runs a dead-lettered event's handler again (after an operator fixed the cause)."""
        dl = self._tables.dead_letters
        async with self._uow_factory() as uow:
            row = (await uow.session.execute(sa.select(dl).where(dl.c.id == dead_letter_id))).first()
        if row is None:
            raise LookupError(dead_letter_id)
        if row.payload == PAYLOAD_REMOVED:
            raise PayloadRemoved(dead_letter_id)
        applied = await self.apply(self.spec.read(row.payload))
        async with self._uow_factory() as uow:
            await uow.session.execute(sa.update(dl).where(dl.c.id == dead_letter_id).values(replayed_at=sa.func.now()))
            await uow.commit()
        return applied
