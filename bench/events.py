"""The event pipeline (issue 13, benchmark 2): outbox -> relay -> JetStream -> a consumer that
records its effect and the event id in one transaction, against raw nats-py publish +
pull-consume of the same messages with the same acks, in the same run.

- Throughput: ``--events`` events waiting in the producer's outbox, the relay and the consumer
  started together, until the last effect is committed; raw: a publisher awaiting each PubAck (as
  the relay does) and a pull consumer acking each message, concurrently. Target: >= 0.5x raw.
- Latency: a producer committing one event every 5 ms (200 events/s) for ``--seconds``; each
  event's time from the producer's commit to the consumer's insert of its effect. Target: p99 at
  most 100 ms (reported against the raw publish-to-consume p99 at the same rate).

The producer's relay and the consumer run as they do in the services (``OutboxRelay``,
``ConsumerRunner``), each with its own connection pool, in one process (a service runs its relay
and its consumers in one process too).

    .venv/bin/python -m bench.events [--events 3000] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

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
from esign.consumer import ConsumerRunner, ConsumerSpec, Takes
from esign.db import make_engine, make_session_factory
from esign.events import Envelope, EventMeta, ExpiryWarned
from esign.outbox import OutboxRelay
from esign.service import settle_startup_heap
from esign.uow import UnitOfWork
from services.applications.adapters.orm import messaging as consumer_tables
from services.applications.app import DEFINITION as CONSUMER_SERVICE
from services.notifications.adapters.orm import messaging as producer_tables
from services.notifications.app import DEFINITION as PRODUCER_SERVICE

PRODUCER = "notifications"  # ExpiryWarned's subject is in the notifications stream
RATE = 200  # events per second for the latency measurement
EFFECTS = sa.table("bench_effects", sa.column("event_id"), sa.column("at"))
# Built once with a bind parameter, as a service writes a statement on a hot path (esign.repository).
RECORD_EFFECT = sa.insert(EFFECTS).values(event_id=sa.bindparam("event_id"), at=sa.func.clock_timestamp())


def event() -> ExpiryWarned:
    now = datetime.now(UTC)
    return ExpiryWarned(
        application_id=uuid.uuid4(),
        institution_id=uuid.uuid4(),
        holder_id=uuid.uuid4(),
        certificate_serial="7F:01:AA",
        not_after=now,
        days_before=40,
        warned_at=now,
    )


async def record_effect(warned: ExpiryWarned, uow: UnitOfWork, *, meta: EventMeta) -> None:
    # The consumer's effect: one row, in the transaction that records the event id.
    await uow.session.execute(RECORD_EFFECT, {"event_id": meta.id})


class Pipeline:
    def __init__(self, producer_url: str, consumer_url: str, js, name: str) -> None:
        self.producer_engine = make_engine(producer_url)
        self.consumer_engine = make_engine(consumer_url)
        producer_sessions = make_session_factory(self.producer_engine)
        self.consumer_sessions = make_session_factory(self.consumer_engine)
        self.relay = OutboxRelay(producer_sessions, producer_tables, js, PRODUCER)
        spec = ConsumerSpec(name, PRODUCER, [Takes(ExpiryWarned, record_effect)])
        self.consumer = ConsumerRunner(
            spec, js, lambda: UnitOfWork(self.consumer_sessions, consumer_tables, "applications"), consumer_tables
        )
        self.new_uow = lambda: UnitOfWork(producer_sessions, producer_tables, PRODUCER, on_commit=self.relay.wake)
        self.tasks: list[asyncio.Task] = []
        self.js = js

    async def start(self) -> None:
        # A new durable consumer reads the stream from its start: empty it of earlier rounds' messages.
        await self.js.purge_stream(jetstream.stream_name(PRODUCER))
        self.tasks = [asyncio.create_task(self.relay.run()), asyncio.create_task(self.consumer.run())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.producer_engine.dispose()
        await self.consumer_engine.dispose()

    async def effects(self) -> int:
        async with self.consumer_sessions() as s:
            return (await s.execute(sa.select(sa.func.count()).select_from(EFFECTS))).scalar_one()

    async def wait_for(self, count: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while await self.effects() < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"the consumer recorded {await self.effects()} of {count} effects")
            await asyncio.sleep(0.02)


async def ours_throughput(pipeline: Pipeline, events: int) -> float:
    async with pipeline.new_uow() as uow:  # the backlog, committed before the clock starts
        for _ in range(events):
            uow.emit(event())
        await uow.commit()
    already = await pipeline.effects()
    started = time.perf_counter()
    await pipeline.start()
    await pipeline.wait_for(already + events)
    elapsed = time.perf_counter() - started
    await pipeline.stop()
    return events / elapsed


async def ours_latency(pipeline: Pipeline, seconds: float) -> list[float]:
    await pipeline.start()
    committed: dict[uuid.UUID, float] = {}
    before = await pipeline.effects()
    started = time.perf_counter()
    for n in range(int(seconds * RATE)):
        await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
        async with pipeline.new_uow() as uow:
            envelope = uow.emit(event())
            await uow.commit()
        committed[envelope.id] = time.time()
    await pipeline.wait_for(before + len(committed))
    async with pipeline.consumer_sessions() as s:
        rows = (await s.execute(sa.select(EFFECTS.c.event_id, EFFECTS.c.at))).all()
    await pipeline.stop()
    return [(r.at.timestamp() - committed[r.event_id]) * 1000 for r in rows if r.event_id in committed]


async def raw_round(js, name: str, count: int, rate: float | None) -> tuple[float, list[float]]:
    """Raw nats-py: publish ``count`` messages (each PubAck awaited, optionally paced at ``rate``)
    while a pull consumer fetches and acks them. Returns (messages per second, latencies in ms)."""
    stream = jetstream.stream_name(PRODUCER)
    await js.add_consumer(
        stream,
        ConsumerConfig(
            durable_name=name,
            filter_subject=ExpiryWarned.type,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW,
        ),
    )
    sub = await js.pull_subscribe_bind(durable=name, stream=stream)
    payload = Envelope.wrap(event(), PRODUCER).model_dump_json().encode()
    latencies: list[float] = []

    async def consume() -> None:
        while len(latencies) < count:
            try:
                msgs = await sub.fetch(20, timeout=1)
            except (NatsTimeout, TimeoutError):  # an empty poll; nats-py raises either
                continue
            for msg in msgs:
                await msg.ack()
                latencies.append((time.time() - float(msg.headers["Sent"])) * 1000)

    consumer = asyncio.create_task(consume())
    started = time.perf_counter()
    for n in range(count):
        if rate:
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        await js.publish(
            ExpiryWarned.type, payload, headers={"Nats-Msg-Id": uuid.uuid4().hex, "Sent": repr(time.time())}
        )
    await consumer
    elapsed = time.perf_counter() - started
    await sub.unsubscribe()
    await js.delete_consumer(stream, name)
    return count / elapsed, latencies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


async def run(*, events: int, seconds: float, rounds: int) -> list[Result]:
    with scratch_dir() as scratch, embedded_postgres(scratch) as pg, embedded_nats(scratch) as nats:
        producer_url = await migrated(pg, "producer", PRODUCER_SERVICE.migrations_dir)
        consumer_url = await migrated(pg, "consumer", CONSUMER_SERVICE.migrations_dir)
        engine = make_engine(consumer_url)
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE bench_effects (event_id uuid PRIMARY KEY, at timestamptz)"))
        await engine.dispose()
        nc = await jetstream.connect(nats.url, "bench")
        js = nc.jetstream()
        await jetstream.ensure_stream(js, PRODUCER)
        raw_rates, our_rates, raw_p99, our_p99 = [], [], [], []
        settle_startup_heap()  # as a service process is when it relays and consumes (esign.service)
        for n in range(rounds):
            rate, _ = await raw_round(js, f"raw-{n}", events, None)
            raw_rates.append(rate)
            our_rates.append(await ours_throughput(Pipeline(producer_url, consumer_url, js, f"ours-{n}"), events))
            _, latencies = await raw_round(js, f"raw-paced-{n}", int(seconds * RATE), RATE)
            raw_p99.append(p99(latencies))
            our_p99.append(p99(await ours_latency(Pipeline(producer_url, consumer_url, js, f"paced-{n}"), seconds)))
        await nc.close()
    latency = ratio_result(
        f"events: p99 commit->consumer at {RATE}/s (vs raw)",
        raw_p99,
        our_p99,
        unit="ms",
        target=0,
        higher_is_better=False,
        note="target: p99 <= 100 ms",
    )
    latency.limit = 100
    return [
        ratio_result(
            "events: outbox->consumer throughput (vs raw)",
            raw_rates,
            our_rates,
            unit="ev/s",
            target=0.5,
            higher_is_better=True,
        ),
        latency,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    return run_and_report(run(events=args.events, seconds=args.seconds, rounds=args.rounds))


if __name__ == "__main__":
    sys.exit(main())
