"""`make soak`: the fault tests' platform (a three-node JetStream cluster, two replicas of each
service) under traffic until the streams hold ESIGN_SOAK_EVENTS events (10,000 by default), with a
fault injected at a random point of every round: a NATS node, PostgreSQL, a service replica killed
(SIGKILL) and started again, or the SMTP server and SMS provider down for a while. Then the same
count as tests/e2e/test_faults.py, printed.

Not collected by `make test` (the file name does not start with test_); run it by path:
    ESIGN_SOAK_EVENTS=10000 ESIGN_SOAK_SEED=7 .venv/bin/python -m pytest tests/e2e/soak_faults.py -s
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import pytest

from tests.support.faults import SERVICE_NAMES, FaultPlatform
from tests.support.traffic import Traffic, assert_exactly_once, ledger, until

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

EVENTS = int(os.environ.get("ESIGN_SOAK_EVENTS", "10000"))
SEED = int(os.environ.get("ESIGN_SOAK_SEED", str(time.time_ns() % 10**6)))
INVITEES, CHAINS = 300, 12  # per round


async def all_ready(platform: FaultPlatform) -> bool:
    found = await platform.readiness()
    return bool(found) and all(s == 200 for s in found)


async def kill_nats_node(platform: FaultPlatform, rng: random.Random) -> str:
    node = rng.choice(platform.nats.nodes)
    await asyncio.to_thread(node.kill9)
    await asyncio.sleep(rng.uniform(1, 5))
    await asyncio.to_thread(node.start)
    return f"nats node {node.name}"


async def kill_postgres(platform: FaultPlatform, rng: random.Random) -> str:
    await asyncio.to_thread(platform.pg.kill9)
    await until("a service to notice", lambda: _any_not_ready(platform))
    await asyncio.sleep(rng.uniform(0, 3))
    await asyncio.to_thread(platform.pg.restart)
    await until("every service ready again", lambda: all_ready(platform), timeout=90)
    return "postgresql"


async def kill_replica(platform: FaultPlatform, rng: random.Random) -> str:
    service = rng.choice(SERVICE_NAMES)
    replica = rng.choice(platform.services[service])
    await asyncio.to_thread(replica.kill9)
    await asyncio.sleep(rng.uniform(0, 3))
    await asyncio.to_thread(replica.start)
    await asyncio.to_thread(replica.wait_ready)
    return f"{service} replica"


async def mail_and_sms_outage(platform: FaultPlatform, rng: random.Random) -> str:
    platform.smtp.stop()
    await asyncio.to_thread(platform.sms.stop)
    await asyncio.sleep(rng.uniform(2, 6))
    platform.smtp.start()
    await asyncio.to_thread(platform.sms.start)
    return "smtp + sms provider"


async def _any_not_ready(platform: FaultPlatform) -> bool:
    return any(s != 200 for s in await platform.readiness())


FAULTS = [kill_nats_node, kill_postgres, kill_replica, mail_and_sms_outage]


async def events_on_streams(platform: FaultPlatform) -> int:
    return sum([await platform.scalar(name, "SELECT count(*) FROM outbox") for name in SERVICE_NAMES])


async def test_soak_under_random_faults(platform_of):
    rng = random.Random(SEED)
    began = time.monotonic()
    platform = await platform_of(nats_nodes=3, replicas=2)
    rounds: list[Traffic] = []
    faults: list[str] = []
    while await events_on_streams(platform) < EVENTS:
        traffic = Traffic(platform, INVITEES, CHAINS, first=1 + len(rounds) * INVITEES)
        running = asyncio.create_task(traffic.run())
        await asyncio.sleep(rng.uniform(0.5, 10))  # a random point of the round
        faults.append(await rng.choice(FAULTS)(platform, rng))
        await running
        rounds.append(traffic)
        elapsed = time.monotonic() - began
        print(
            f"{elapsed:5.0f}s round {len(rounds)}: {faults[-1]}; {await events_on_streams(platform)} events", flush=True
        )
    for traffic in rounds:
        await traffic.settled(timeout=900)
    count = await ledger(platform)
    killed_senders = faults.count("notifications replica")
    print(f"\nsoak seed {SEED}: {len(rounds)} rounds in {time.monotonic() - began:.0f}s, faults {faults}")
    print(count.summary())
    doubled = {k: n for k, n in (count.emails + count.sms).items() if n > 1}
    print(f"sent twice (a sender killed between the server's answer and its record): {len(doubled)}")
    assert_exactly_once(count, rounds, killed_senders=killed_senders)
