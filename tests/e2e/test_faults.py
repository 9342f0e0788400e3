"""The platform under faults while real traffic flows (issue 14): the three services run as
processes the way `esign up` runs them; staff lists go in (→ invitations → e-mails) and
applicants go all the way to a delivered card (→ production → shipment → e-mails and SMS) while a
part they stand on is SIGKILLed or taken away. At the end the ledger must show every event once
on its stream and once in its consumer's effects, every e-mail and SMS exactly once (by Message-ID
and delivery id), no dead letters, the outbox drained.

Bounded: a few dozen invitations and a handful of full chains per fault; `make soak` runs the
same at 10,000 events with faults at random points (tests/e2e/soak_faults.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.faults import FaultPlatform
from tests.support.traffic import (
    DELIVERED_SUBJECT,
    INVITATION_SUBJECT,
    Traffic,
    assert_exactly_once,
    ledger,
    mails_with_subject,
    until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

INVITEES, CHAINS = 20, 3


async def sent_emails(platform: FaultPlatform, at_least: int) -> None:
    await until(f"{at_least} e-mails out", lambda: len(platform.smtp.messages) >= at_least)


async def finish(platform: FaultPlatform, traffic: Traffic, running: asyncio.Task, *, killed_senders: int = 0) -> None:
    await running
    await traffic.settled()
    count = await ledger(platform)
    print(count.summary())
    assert_exactly_once(count, [traffic], killed_senders=killed_senders)
    invitations = mails_with_subject(platform, INVITATION_SUBJECT)
    assert set(invitations) == {p["email"] for p in traffic.people}
    delivered = mails_with_subject(platform, DELIVERED_SUBJECT)
    assert set(delivered) == {p["email"] for p in traffic.people[: traffic.chains]}
    assert sum(invitations.values()) + sum(delivered.values()) <= len(invitations) + len(delivered) + killed_senders
    assert not [line for line in platform.log_lines() if "nats: encountered error" in line]


async def test_nats_killed_mid_traffic_and_restarted_on_its_store(platform_of):
    platform = await platform_of()
    traffic = Traffic(platform, INVITEES, CHAINS)
    running = asyncio.create_task(traffic.run())
    await sent_emails(platform, 5)
    [node] = platform.nats.nodes
    node.kill9()
    await until("every service to report not ready", lambda: _all(platform.readiness(), 503))
    await asyncio.to_thread(node.start)
    await until("every service ready again", lambda: _all(platform.readiness(), 200), timeout=60)
    await finish(platform, traffic, running)


async def _all(statuses, wanted: int) -> bool:
    found = await statuses
    return bool(found) and all(s == wanted for s in found)


async def test_postgresql_killed_mid_traffic_services_not_ready_then_recover_without_restart(platform_of):
    platform = await platform_of()
    pids = [p.proc.pid for p in platform.processes]
    traffic = Traffic(platform, INVITEES, CHAINS)
    running = asyncio.create_task(traffic.run())
    await sent_emails(platform, 5)
    await asyncio.to_thread(platform.pg.kill9)
    await until("every service to report not ready", lambda: _all(platform.readiness(), 503))
    await asyncio.to_thread(platform.pg.restart)
    await until("every service ready again", lambda: _all(platform.readiness(), 200), timeout=60)
    await finish(platform, traffic, running)
    assert [p.proc.pid for p in platform.processes] == pids and all(p.proc.poll() is None for p in platform.processes)


async def test_two_replicas_of_each_service_one_killed_mid_traffic(platform_of):
    platform = await platform_of(replicas=2)
    traffic = Traffic(platform, INVITEES, CHAINS)
    running = asyncio.create_task(traffic.run())
    await sent_emails(platform, 5)
    for name in ("applications", "notifications", "tracking"):
        platform.services[name][0].kill9()
    # The killed notifications replica may have been between the SMTP server's 250 and its own
    # commit: that one message may come twice (see assert_exactly_once). Nothing else may.
    await finish(platform, traffic, running, killed_senders=1)


async def test_three_node_jetstream_cluster_one_node_killed_mid_traffic(platform_of):
    platform = await platform_of(nats_nodes=3)
    traffic = Traffic(platform, INVITEES, CHAINS)
    running = asyncio.create_task(traffic.run())
    await sent_emails(platform, 5)
    leader = await platform.stream_leader("applications")
    victim = next(n for n in platform.nats.nodes if n.name == leader)
    victim.kill9()
    await finish(platform, traffic, running)
    assert await platform.stream_replicas("applications") == 3


async def test_smtp_server_and_sms_provider_down_for_a_while_then_back(platform_of):
    platform = await platform_of()
    traffic = Traffic(platform, INVITEES, CHAINS)
    running = asyncio.create_task(traffic.run())
    await sent_emails(platform, 5)
    platform.smtp.stop()
    await asyncio.to_thread(platform.sms.stop)
    retried = "SELECT count(*) FROM deliveries WHERE status = 'queued' AND attempts >= 2"
    await until("deliveries to be retried", lambda: platform.scalar("notifications", retried))
    platform.smtp.start()
    await asyncio.to_thread(platform.sms.start)
    await finish(platform, traffic, running)
