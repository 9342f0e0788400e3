"""The daily expiry sweep (issue 13, benchmark 5): ``--certificates`` certificates in the
notifications service's table, ``not_after`` spread evenly over the next three years (a
three-year certificate issued on any day of the last three years), 500 institutions, and every
step that fell due before today already decided (yesterday's sweep ran). Today's sweep is the
real ``ReminderScheduler.run_once`` (claim, decide, record the decision, the deliveries and the
``expiry_warned`` event in one transaction per batch; then the officers' digests).

- Decision time against the bare SQL that selects the same due rows. Target: <= 1.5x. The row's
  note gives the floor of any sweep that writes what this one must: the bare select plus
  ``COPY`` of exactly the rows the sweep wrote (decisions, deliveries, outbox events, digests)
  in one transaction, against the same bare select.
- The reminders it wrote, published by the outbox relay, per second, against raw JetStream
  publish of as many messages of the same size. Target: >= 0.5x.

    .venv/bin/python -m bench.expiry_sweep [--certificates 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import sqlalchemy as sa

from bench.harness import (
    Result,
    embedded_nats,
    embedded_postgres,
    migrated,
    ratio_result,
    run_and_report,
    scratch_dir,
)
from esign import jetstream
from esign.clock import Clock
from esign.db import make_engine, make_session_factory
from esign.outbox import OutboxRelay
from esign.service import settle_startup_heap
from services.notifications.adapters.orm import messaging
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.app import DEFINITION
from services.notifications.config import NotificationsSettings
from services.notifications.handlers.reminders import ReminderPolicy, ReminderScheduler

PRODUCER = DEFINITION.name
INSTITUTIONS = 500
# A certificate is due at a step once not_after - step days has passed; it is "decided" once a
# reminder at that step or a later (smaller) one is recorded. The same rule as claim_due, in SQL.
BARE_DUE = """
SELECT c.* FROM certificates c
WHERE c.superseded_at IS NULL AND c.renewal_recorded_at IS NULL AND c.not_after > $1
  AND c.not_after <= $1 + make_interval(days => (SELECT max(s) FROM unnest($2::int[]) AS s))
  AND EXISTS (
    SELECT 1 FROM unnest($2::int[]) AS s(step)
    WHERE c.not_after - make_interval(days => s.step) <= $1
      AND NOT EXISTS (SELECT 1 FROM expiry_reminders r WHERE r.certificate_id = c.id AND r.days_before <= s.step))
ORDER BY c.not_after
"""

SEED = """
INSERT INTO certificates (id, serial, holder_id, application_id, institution_id, first_name, last_name,
                          email, mobile, locale, not_after, produced_at)
SELECT gen_random_uuid(), 'SN' || n, gen_random_uuid(), gen_random_uuid(),
       ('00000000-0000-0000-0000-' || lpad((n % $3)::text, 12, '0'))::uuid,
       'Ayşe', 'Yılmazoğlu', 'kisi' || n || '@ornek.edu.tr', '+90532' || lpad((n % 10000000)::text, 7, '0'), 'tr',
       $1::timestamptz + (n::float / $2) * interval '1095 days',
       $1::timestamptz + (n::float / $2) * interval '1095 days' - interval '1095 days'
FROM generate_series(0, $2 - 1) AS n
"""

# Yesterday's sweep: for every certificate, the latest step already due a day ago is recorded.
YESTERDAY = """
INSERT INTO expiry_reminders (certificate_id, days_before, status, decided_at)
SELECT c.id, min(s.step), 'sent', $1::timestamptz - interval '1 day'
FROM certificates c JOIN unnest($2::int[]) AS s(step)
  ON c.not_after - make_interval(days => s.step) <= $1::timestamptz - interval '1 day'
WHERE c.not_after > $1
GROUP BY c.id
"""


class StoppedClock(Clock):
    """Every round decides the same day (the seeded one)."""

    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def now(self) -> datetime:
        return self._moment


async def seed(url: str, certificates: int, now: datetime, steps: list[int]) -> None:
    conn = await asyncpg.connect(url)
    await conn.execute(SEED, now, certificates, INSTITUTIONS)
    await conn.execute("ANALYZE certificates")
    await conn.close()


async def reset_day(url: str, now: datetime, steps: list[int]) -> None:
    """Back to the morning: yesterday's decisions only, nothing in the outbox."""
    conn = await asyncpg.connect(url)
    async with conn.transaction():
        await conn.execute("TRUNCATE expiry_reminders, deliveries, outbox, officer_digests")
        await conn.execute(YESTERDAY, now, steps)
    await conn.execute("ANALYZE expiry_reminders")
    await conn.close()


async def bare_due(url: str, now: datetime, steps: list[int]) -> tuple[float, int]:
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    rows = await conn.fetch(BARE_DUE, now, steps)
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed, len(rows)


# What the sweep writes, in the order a floor replays it (a delivery and an event refer to no
# decision row by key, so any order would do).
WRITTEN = ("expiry_reminders", "deliveries", "outbox", "officer_digests")


async def written_rows(url: str, now: datetime) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows today's sweep wrote, per table (yesterday's decisions were decided a day earlier)."""
    conn = await asyncpg.connect(url)
    written = {}
    for table in WRITTEN:
        where = " WHERE decided_at >= $1" if table == "expiry_reminders" else ""
        rows = await conn.fetch(f"SELECT * FROM {table}{where}", *([now] if where else []))
        written[table] = (list(rows[0].keys()) if rows else [], [tuple(r) for r in rows])
    await conn.close()
    return written


async def floor_time(url: str, now: datetime, steps: list[int], written: dict) -> float:
    """From the same morning: the bare select, then COPY of what the sweep wrote, in one transaction."""
    await reset_day(url, now, steps)
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    await conn.fetch(BARE_DUE, now, steps)
    async with conn.transaction():
        for table, (columns, rows) in written.items():
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=columns)
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed


async def relay_rate(url: str, js) -> tuple[float, int]:
    engine = make_engine(url)
    relay = OutboxRelay(make_session_factory(engine), messaging, js, PRODUCER)
    started, published = time.perf_counter(), 0
    while (n := await relay.publish_pending()) > 0:
        published += n
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return published / elapsed, published


async def raw_rate(js, count: int, size: int) -> float:
    payload = b"x" * size
    started = time.perf_counter()
    for _ in range(count):
        await js.publish(f"{PRODUCER}.bench.raw", payload, headers={"Nats-Msg-Id": uuid.uuid4().hex})
    return count / (time.perf_counter() - started)


async def run(*, certificates: int, rounds: int) -> list[Result]:
    settings = NotificationsSettings()
    steps = sorted(settings.reminder_steps, reverse=True)
    policy = ReminderPolicy(
        steps=settings.reminder_steps,
        digest_period=settings.digest_period,
        digest_window=timedelta(days=settings.digest_window_days),
        default_locale=settings.default_locale,
    )
    now = datetime.now(UTC)
    with scratch_dir() as scratch, embedded_postgres(scratch) as pg, embedded_nats(scratch) as nats:
        url = await migrated(pg, "notifications", DEFINITION.migrations_dir)
        await seed(url, certificates, now, steps)
        nc = await jetstream.connect(nats.url, "bench")
        js = nc.jetstream()
        await jetstream.ensure_stream(js, PRODUCER)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        scheduler = ReminderScheduler(
            lambda: NotificationsUnitOfWork(sessions, messaging, PRODUCER), policy, clock=StoppedClock(now)
        )
        bare_times, sweep_times, floor_times, raw_rates, relay_rates = [], [], [], [], []
        settle_startup_heap()  # as a service process is when it sweeps (esign.service)
        for _ in range(rounds):
            await reset_day(url, now, steps)
            bare, due = await bare_due(url, now, steps)
            started = time.perf_counter()
            run_ = await scheduler.run_once()
            sweep = time.perf_counter() - started
            if run_.warned != due:
                raise SystemExit(f"the sweep warned {run_.warned} certificates, the bare query found {due} due")
            written = await written_rows(url, now)
            floor_times.append(await floor_time(url, now, steps, written) * 1000)
            rate, published = await relay_rate(url, js)
            async with sessions() as s:
                size = (
                    await s.execute(
                        sa.select(sa.func.avg(sa.func.length(sa.cast(messaging.outbox.c.envelope, sa.Text))))
                    )
                ).scalar_one()
            raw = await raw_rate(js, published, int(size or 400))
            bare_times.append(bare * 1000)
            sweep_times.append(sweep * 1000)
            raw_rates.append(raw)
            relay_rates.append(rate)
        await engine.dispose()
        await nc.close()
    floor = statistics.median(floor_times)
    rows = sum(len(rows) for _, rows in written.values())
    return [
        ratio_result(
            f"expiry sweep, {certificates:,} certs, {due:,} due (vs SQL)",
            bare_times,
            sweep_times,
            unit="ms",
            target=1.5,
            higher_is_better=False,
            note=f"floor, the select + COPY of the {rows:,} rows it wrote: {floor:,.1f} ms, "
            f"{floor / statistics.median(bare_times):.2f}x",
        ),
        ratio_result(
            "expiry sweep: reminders published (vs raw)",
            raw_rates,
            relay_rates,
            unit="msg/s",
            target=0.5,
            higher_is_better=True,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    return run_and_report(run(certificates=args.certificates, rounds=args.rounds))


if __name__ == "__main__":
    sys.exit(main())
