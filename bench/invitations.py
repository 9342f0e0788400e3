"""Invitations (issue 13, benchmark 4): from a staff-list upload of ``--rows`` people to every
invitation issued (secrets generated, the password hashed, the secrets sealed for the
notifications service, the ``invitation.issued`` event committed) and published to JetStream by
the outbox relay, against the same number of bare hash + seal operations on one thread (the
issuer hashes on one worker thread), in the same run, rounds alternating.

The service's own issuer (``issue_pending`` in batches of ``invitation_issue_batch``) and relay run
as in the service: the relay woken by each batch's commit. What bounds it is the password hash:
see docs/benchmarks.md for the decision on how an invitation password is hashed.
Target: at most 1.5x the bare operations.

    .venv/bin/python -m bench.invitations [--rows 10000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
import uuid
from datetime import timedelta

import sqlalchemy as sa

from bench.harness import (
    Result,
    embedded_nats,
    embedded_postgres,
    interleaved_seconds,
    migrated,
    people_codec,
    ratio_result,
    run_and_report,
    scratch_dir,
)
from bench.roster_import import csv_file
from esign import jetstream, sealing
from esign.auth import Principal, Role
from esign.clock import SYSTEM_CLOCK
from esign.db import make_engine, make_session_factory
from esign.outbox import OutboxRelay
from esign.service import settle_startup_heap
from services.applications.adapters import orm
from services.applications.adapters.hashing import invitation_hasher
from services.applications.adapters.roster_files import read_roster_file
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.app import DEFINITION
from services.applications.config import ApplicationsSettings
from services.applications.domain.invitation import PASSWORD_ALPHABET, PASSWORD_LENGTH
from services.applications.handlers.invitations import InvitationPolicy, issue_pending
from services.applications.handlers.roster import ImportRoster, import_roster


def bare_operations(hasher, public_key: str, count: int) -> None:
    """What issuing cannot do without: per invitation, a password hashed and the secrets sealed."""
    for _ in range(count):
        token = secrets.token_urlsafe(32)
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
        hasher.hash(password)
        sealing.seal(public_key, {"token": token, "password": password, "link": f"https://x/apply#token={token}"})


async def run(*, rows: int, rounds: int) -> list[Result]:
    settings = ApplicationsSettings()
    hasher = invitation_hasher(settings)
    _, public_key = sealing.generate_keypair()
    policy = InvitationPolicy(timedelta(days=30), 5, timedelta(minutes=15), public_key, "https://x/apply")
    content = csv_file(rows)
    with scratch_dir() as scratch, embedded_postgres(scratch) as pg, embedded_nats(scratch) as nats:
        url = await migrated(pg, "applications", DEFINITION.migrations_dir)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        nc = await jetstream.connect(nats.url, "bench")
        js = nc.jetstream()
        await jetstream.ensure_stream(js, DEFINITION.name)
        outbox = orm.messaging.outbox

        async def through_service() -> float:
            await js.purge_stream(jetstream.stream_name(DEFINITION.name))
            relay = OutboxRelay(sessions, orm.messaging, js, DEFINITION.name)

            def uow() -> ApplicationsUnitOfWork:
                return ApplicationsUnitOfWork(
                    sessions, orm.messaging, DEFINITION.name, on_commit=relay.wake, codec=people_codec()
                )

            institution = uuid.uuid4()
            async with sessions() as s, s.begin():
                await s.execute(sa.insert(orm.institutions).values(id=institution, name=f"Bench {institution}"))
            officer = Principal("bench", Role.INSTITUTION_OFFICER, institution_id=institution)
            started = time.perf_counter()
            relaying = asyncio.create_task(relay.run())
            async with uow() as u:  # the upload
                records = read_roster_file(content, "text/csv", "staff.csv")
                await import_roster(ImportRoster(institution, records), u, principal=officer, clock=SYSTEM_CLOCK)
                await u.commit()

            async def lane() -> None:  # the issuer, as the service's PeriodicWorker runs it while there is work
                while True:
                    async with uow() as u:
                        issued = await issue_pending(
                            u, clock=SYSTEM_CLOCK, hasher=hasher, policy=policy, limit=settings.invitation_issue_batch
                        )
                        await u.commit()
                    if not issued:
                        break

            await asyncio.gather(*(lane() for _ in range(settings.invitation_issuer_lanes)))
            while True:  # until the relay has published the last invitation.issued
                async with sessions() as s:
                    waiting = (
                        await s.execute(
                            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
                        )
                    ).scalar_one()
                if not waiting:
                    break
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            relaying.cancel()
            await asyncio.gather(relaying, return_exceptions=True)
            info = await js.stream_info(jetstream.stream_name(DEFINITION.name))
            if info.state.messages < rows:
                raise SystemExit(f"only {info.state.messages} of {rows} invitations reached JetStream")
            return elapsed

        async def bare() -> float:
            started = time.perf_counter()
            await asyncio.to_thread(bare_operations, hasher, public_key, rows)
            return time.perf_counter() - started

        settle_startup_heap()  # as a service process is when it issues (esign.service)
        bare_ms, service_ms = await interleaved_seconds(rounds, bare, through_service)
        await nc.close()
        await engine.dispose()
    return [
        ratio_result(
            f"invitations: {rows:,} issued+published (vs hash+seal)",
            bare_ms,
            service_ms,
            unit="ms",
            target=1.5,
            higher_is_better=False,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    return run_and_report(run(rows=args.rows, rounds=args.rounds))


if __name__ == "__main__":
    sys.exit(main())
