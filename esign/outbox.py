"""The outbox relay: publishes committed events to JetStream, each with its event id as
``Nats-Msg-Id``, then marks them published.

Crash anywhere: an event published but not yet marked is published again with the same id, and
JetStream's duplicate window drops the copy (consumers are idempotent besides). Several relays
may run (one per replica): ``FOR UPDATE SKIP LOCKED`` gives each row to one of them at a time.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import structlog
from nats.js import JetStreamContext
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from esign.messaging_tables import MessagingTables

log = structlog.get_logger("esign.outbox")

PUBLISHED = Counter("esign_outbox_published_total", "Events published from the outbox", ["producer"])
PUBLISH_ERRORS = Counter("esign_outbox_publish_errors_total", "Failed outbox publish attempts", ["producer"])


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        js: JetStreamContext,
        producer: str,
        *,
        batch_size: int = 200,
        poll_interval: float = 0.5,
        ack_timeout: float = 5.0,
    ) -> None:
        self._session_factory = session_factory
        self._outbox = tables.outbox
        self._js = js
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._ack_timeout = ack_timeout
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that wrote events, so they go out without waiting for a poll."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publishes one batch. Returns how many were published, or -1 if publishing failed part
        way (what did go out is marked; the rest waits for the next pass)."""
        o = self._outbox
        async with self._session_factory() as session, session.begin():
            rows = (
                await session.execute(
                    sa.select(o.c.id, o.c.subject, o.c.envelope)
                    .where(o.c.published_at.is_(None))
                    .order_by(o.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            published, failed = await self._publish(rows)
            if failed is not None:  # NATS down or timing out: keep what went out, retry the rest later.
                PUBLISH_ERRORS.labels(self._producer).inc()
                log.warning("outbox_publish_failed", error=failed, pending=len(rows) - len(published))
                first_unpublished = next(row.id for row in rows if row.id not in set(published))
                await session.execute(sa.update(o).where(o.c.id == first_unpublished).values(attempts=o.c.attempts + 1))
            if published:
                await session.execute(sa.update(o).where(o.c.id.in_(published)).values(published_at=sa.func.now()))
                PUBLISHED.labels(self._producer).inc(len(published))
            return len(published) if len(published) == len(rows) else -1

    async def _publish(self, rows: Sequence[sa.Row]) -> tuple[list[uuid.UUID], str | None]:
        """Sends the batch without waiting for each PubAck in turn (the messages leave in order on
        one connection), then collects the acks: one round trip per batch instead of per event.
        Returns the ids JetStream acknowledged and, if some were not, why."""
        sent: list[tuple[uuid.UUID, asyncio.Future]] = []
        failure: str | None = None
        try:
            for row in rows:
                payload = json.dumps(row.envelope, ensure_ascii=False, separators=(",", ":")).encode()
                ack = await self._js.publish_async(row.subject, payload, headers={"Nats-Msg-Id": str(row.id)})
                sent.append((row.id, ack))
        except Exception as exc:  # noqa: BLE001 - NATS down or timing out: what was acked is kept, the rest retried
            failure = type(exc).__name__
        if sent:
            await asyncio.wait([ack for _, ack in sent], timeout=self._ack_timeout)
        published = []
        for event_id, ack in sent:
            if ack.done() and not ack.cancelled() and ack.exception() is None:
                published.append(event_id)
            else:
                failure = failure or ("TimeoutError" if not ack.done() else type(ack.exception()).__name__)
                ack.cancel()  # frees its slot in nats-py's window of pending publishes
        return published, failure

    async def run(self) -> None:
        backoff = self._poll_interval
        while True:
            try:
                n = await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database went away: wait and try again
                log.warning("outbox_relay_error", error=type(exc).__name__)
                n = -1
            if n > 0:
                backoff = self._poll_interval
                continue
            if n < 0:  # failure: back off up to 10 s
                backoff = min(backoff * 2, 10.0)
                await asyncio.sleep(backoff)
                continue
            backoff = self._poll_interval
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()
