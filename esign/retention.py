"""Retention: rows kept only as long as their purpose lasts (docs/personal-data.md), removed by
periodic workers that every replica runs.

Replicas share the work without a coordinator: each pass is one transaction that first takes a
PostgreSQL advisory lock named after the job (``pg_try_advisory_xact_lock``). The replica that
gets it does one bounded batch; the others skip this pass. The lock goes with the transaction, so
a replica that dies mid-pass leaves nothing held. Batches are bounded so a long backlog never
holds locks for long: a pass that filled its batch returns its count and the worker goes again.

The messaging tables every service has are pruned here: published outbox rows and
``processed_events`` past the deduplication window, and the payload of dead letters past their
period.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import sqlalchemy as sa
import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from esign.clock import Clock
from esign.db import Executor
from esign.jetstream import DUPLICATE_WINDOW_SECONDS
from esign.messaging_tables import PAYLOAD_REMOVED, MessagingTables
from esign.uow import UnitOfWork

log = structlog.get_logger("esign.retention")

REMOVED = Counter("esign_retention_rows_total", "Rows removed or masked by retention workers", ["job"])


async def take_turn(session: Executor, job: str) -> bool:
    """Inside a transaction: True if this replica does ``job`` now (until the transaction ends),
    False if another one is doing it. ``hashtext`` turns the name into the lock's key."""
    return bool(await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(sa.func.hashtext(job)))))


async def bounded_pass(uow: UnitOfWork, job: str, work: Callable[[int], Awaitable[int]], *, batch_size: int) -> int:
    """One pass of a service's retention job in ``uow``: only if this replica has the turn, at
    most ``batch_size`` rows (``work(batch_size)`` returns how many it handled), committed.
    Returns the count when the batch came back full (the worker goes again at once), else 0."""
    if not await take_turn(uow.session, job):
        return 0
    done = await work(batch_size)
    await uow.commit()
    counted(job, done)
    return done if done >= batch_size else 0


def counted(job: str, n: int) -> int:
    if n:
        REMOVED.labels(job).inc(n)
        log.info("retention_pass", job=job, rows=n)
    return n


class MessagingRetention:
    """Prunes a service's outbox (published rows older than ``outbox_keep``) and its
    ``processed_events`` (older than ``processed_keep``). Both must outlive JetStream's duplicate
    window: a relay retry inside it reuses the event id, and a consumer redelivery finds the
    processed row and does nothing twice.

    Dead letters older than ``dead_letters_keep`` lose their payload (the failed message, which may
    hold an event's contact data), replayed or not. The row stays, so the operator screen still
    shows which consumer failed on which event, why and when; such a letter can no longer be
    replayed."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        producer: str,
        *,
        outbox_keep: timedelta,
        processed_keep: timedelta,
        dead_letters_keep: timedelta = timedelta(days=30),
        clock: Clock,
        batch_size: int = 1000,
    ) -> None:
        floor = timedelta(seconds=DUPLICATE_WINDOW_SECONDS)
        if outbox_keep < floor or processed_keep < floor:
            raise ValueError(f"messaging rows must be kept at least the duplicate window ({floor})")
        self._session_factory = session_factory
        self._tables = tables
        self._job = f"{producer}.messaging-retention"
        self._outbox_keep = outbox_keep
        self._processed_keep = processed_keep
        self._dead_letters_keep = dead_letters_keep
        self._clock = clock
        self._batch_size = batch_size

    async def prune(self) -> int:
        """One pass: at most ``batch_size`` rows of each table. Returns how many went (0 also
        when another replica has the turn)."""
        o, p, dl = self._tables.outbox, self._tables.processed_events, self._tables.dead_letters
        now = self._clock.now()
        async with self._session_factory() as session, session.begin():
            if not await take_turn(session, self._job):
                return 0
            old_outbox = (
                sa.select(o.c.id)
                .where(o.c.published_at.is_not(None), o.c.published_at < now - self._outbox_keep)
                .limit(self._batch_size)
            )
            outbox = _rowcount(await session.execute(sa.delete(o).where(o.c.id.in_(old_outbox))))
            old_processed = (
                sa.select(p.c.consumer, p.c.event_id)
                .where(p.c.processed_at < now - self._processed_keep)
                .limit(self._batch_size)
            )
            processed = _rowcount(
                await session.execute(sa.delete(p).where(sa.tuple_(p.c.consumer, p.c.event_id).in_(old_processed)))
            )
            old_letters = (
                sa.select(dl.c.id)
                .where(dl.c.created_at < now - self._dead_letters_keep, sa.func.length(dl.c.payload) > 0)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            )
            # An empty payload (the column is NOT NULL) marks a letter whose message was removed.
            letters = _rowcount(
                await session.execute(sa.update(dl).where(dl.c.id.in_(old_letters)).values(payload=PAYLOAD_REMOVED))
            )
        counted(f"{self._job}.outbox", outbox)
        counted(f"{self._job}.processed_events", processed)
        counted(f"{self._job}.dead_letters", letters)
        # Go again at once only while a batch came back full.
        done = outbox + processed + letters
        return done if max(outbox, processed, letters) >= self._batch_size else 0


def _rowcount(result: sa.Result) -> int:
    return result.rowcount or 0  # type: ignore[attr-defined]  # a DML result has a rowcount
