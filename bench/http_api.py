"""API reads, the public shipment query and memory (issue 13, benchmarks 1, 6 and 7).

Every service runs as deployed (uvicorn in its own process, JSON logs at INFO, relay and
consumers running) on an embedded PostgreSQL and NATS; the baseline is ``bench/bare_api.py``, the
same queries and JSON through FastAPI and asyncpg alone, under the same uvicorn settings on the
same database. Debian's ``wrk`` drives both, alternating rounds.

1. ``GET /v1/applications/{id}`` with an officer token, and the officer's list
   (``GET /v1/applications?status=invited``, 50 rows): requests per second at 32 connections
   (target >= 0.7x bare) and p99 at one connection (service time; target <= 2x bare).
6. ``POST /v1/public/shipment-queries`` (rate limit in PostgreSQL, constant-time compare) at 32
   connections against the bare lookup: >= 0.5x.
7. Resident memory of each service idle, and of the measured ones right after their load:
   <= 150 MiB each.

    .venv/bin/python -m bench.http_api [--rounds 3] [--seconds 5] [--rows 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.harness import (
    FIELD_KEYS,
    FIELD_LOOKUP_KEY,
    Result,
    Server,
    check_answers,
    embedded_nats,
    embedded_postgres,
    launch_uvicorn,
    migrated,
    people_codec,
    ratio_result,
    run_and_report,
    scratch_dir,
    serving,
    wait_ready,
    wrk,
)
from esign import sealing
from esign.auth import Principal, Role, mint_token
from esign.clock import SYSTEM_CLOCK
from esign.db import make_engine, make_session_factory
from services.applications.adapters import orm as applications_orm
from services.applications.adapters.roster_files import read_roster_file
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.app import DEFINITION as APPLICATIONS
from services.applications.handlers.roster import ImportRoster, import_roster
from services.notifications.app import DEFINITION as NOTIFICATIONS
from services.tracking.adapters import orm as tracking_orm
from services.tracking.app import DEFINITION as TRACKING

MEMORY_LIMIT_MIB = 150


def staff_csv(rows: int) -> bytes:
    from bench.roster_import import csv_file  # one generator of staff lists for every benchmark

    return csv_file(rows)


async def seed_applications(url: str, rows: int) -> tuple[uuid.UUID, uuid.UUID]:
    """An institution with ``rows`` invited staff (invitations marked issued, so the service's
    issuer has no Argon2 work to do during the measurement). Returns (institution, one application)."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    institution = uuid.uuid4()
    async with sessions() as s, s.begin():
        await s.execute(sa.insert(applications_orm.institutions).values(id=institution, name="Bench Üniversitesi"))
    officer = Principal("bench", Role.INSTITUTION_OFFICER, institution_id=institution)
    async with ApplicationsUnitOfWork(
        sessions, applications_orm.messaging, "applications", codec=people_codec()
    ) as uow:
        records = read_roster_file(staff_csv(rows), "text/csv", "staff.csv")
        await import_roster(ImportRoster(institution, records), uow, principal=officer, clock=SYSTEM_CLOCK)
        await uow.commit()
    async with sessions() as s, s.begin():
        i = applications_orm.invitations
        await s.execute(
            sa.update(i).values(
                state="issued",
                token_hash=sa.func.md5(sa.cast(i.c.id, sa.Text)),
                password_hash="not-a-real-hash",
                issued_at=sa.func.now(),
                expires_at=sa.func.now() + sa.text("interval '30 days'"),
                times_issued=1,
            )
        )
        # Nothing for the relay to do during the measurement either: the import's events are old news.
        await s.execute(sa.update(applications_orm.messaging.outbox).values(published_at=sa.func.now()))
        application = (await s.execute(sa.select(applications_orm.applications.c.id).limit(1))).scalar_one()
    await engine.dispose()
    return institution, application


async def seed_shipments(url: str, count: int) -> list[tuple[str, str]]:
    """``count`` shipments handed to the courier, three timeline steps each; returns
    (tracking number, last four digits of the mobile) pairs."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    pairs = []
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        shipments, steps = [], []
        for n in range(count):
            shipment_id, number, mobile = uuid.uuid4(), f"SIM{n:010d}", f"+90532{n:07d}"
            shipments.append(
                dict(
                    id=shipment_id,
                    application_id=uuid.uuid4(),
                    institution_id=uuid.uuid4(),
                    holder_id=uuid.uuid4(),
                    recipient_name="Ayşe Yılmazoğlu",
                    mobile=mobile,
                    delivery_address={"line": "Atatürk Cad. 1", "district": "Çankaya", "city": "Ankara"},
                    city="Ankara",
                    contents={"card_type": "AKIS", "reader": "ACR38"},
                    carrier="simulated",
                    tracking_number=number,
                    status="in_transit",
                    registered_at=now,
                )
            )
            steps += [
                dict(shipment_id=shipment_id, status=status, occurred_at=now, location="Ankara")
                for status in ("created", "handed_to_courier", "in_transit")
            ]
            pairs.append((number, mobile[-4:]))
        await s.execute(sa.insert(tracking_orm.shipments), shipments)
        await s.execute(sa.insert(tracking_orm.shipment_timeline), steps)
    await engine.dispose()
    return pairs


def service_env(prefix: str, db_url: str, nats_url: str, jwt_secret: str, **extra: str) -> dict[str, str]:
    settings = {"DATABASE_URL": db_url, "NATS_URL": nats_url, "JWT_SECRET": jwt_secret, **extra}
    return {f"{prefix}{k}": v for k, v in settings.items()}


def launch_applications(url: str, nats_url: str, jwt_secret: str, public_key: str, scratch: Path) -> Server:
    env = service_env(
        "ESIGN_APPLICATIONS_",
        url,
        nats_url,
        jwt_secret,
        NOTIFICATIONS_PUBLIC_KEY=public_key,
        APPLICANT_TOKEN_SECRET=secrets.token_urlsafe(32),
        FIELD_KEYS=FIELD_KEYS,
        FIELD_LOOKUP_KEY=FIELD_LOOKUP_KEY,
    )
    return launch_uvicorn("applications", "services.applications.app:create_app", env, scratch)


def launch_tracking(url: str, nats_url: str, jwt_secret: str, scratch: Path) -> Server:
    # The limits are per client address and per tracking number, and wrk is one address asking
    # about one number: lift both, keep the counting.
    env = service_env(
        "ESIGN_TRACKING_",
        url,
        nats_url,
        jwt_secret,
        PUBLIC_QUERY_LIMIT="1000000000",
        PUBLIC_QUERY_NUMBER_LIMIT="1000000000",
    )
    return launch_uvicorn("tracking", "services.tracking.app:create_app", env, scratch)


def launch_bare(name: str, module: str, url: str, scratch: Path, **env: str) -> Server:
    """A baseline app (``module:create_app``) on the database at ``url``, with the field keys."""
    keys = {"ESIGN_APPLICATIONS_FIELD_KEYS": FIELD_KEYS, "ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY": FIELD_LOOKUP_KEY}
    return launch_uvicorn(name, f"{module}:create_app", {"BENCH_DATABASE_URL": url, **keys, **env}, scratch)


def alternate(
    rounds: int, seconds: float, connections: int, ours: dict, bare: dict, what: str
) -> tuple[list[float], list[float], list[float], list[float], list[float], list[float]]:
    """Alternating rounds of ours and the bare endpoint: (bare rps, our rps, bare p99, our p99,
    bare CPU ms per request, our CPU ms per request). A target's ``server`` is the process whose
    CPU is counted."""
    figures: tuple[list[float], ...] = ([], [], [], [], [], [])
    for n in range(rounds):
        # Who goes first alternates too, so neither always runs on a machine the other just warmed.
        order = [("bare", bare), ("ours", ours)] if n % 2 == 0 else [("ours", ours), ("bare", bare)]
        for label, target in order:
            request = {k: v for k, v in target.items() if k != "server"}
            cpu_before = target["server"].cpu_seconds()
            load = check_answers(wrk(connections=connections, seconds=seconds, **request), f"{what} ({label})")
            cpu_ms = (target["server"].cpu_seconds() - cpu_before) * 1000 / max(1, load.requests)
            side = 0 if label == "bare" else 1
            figures[side].append(load.requests_per_second)
            figures[2 + side].append(load.p99_ms)
            figures[4 + side].append(cpu_ms)
    return figures


def cpu_note(bare_ms: list[float], ours_ms: list[float]) -> str:
    bare, ours = statistics.median(bare_ms), statistics.median(ours_ms)
    return f"CPU per request: bare {bare:.2f} ms, ours {ours:.2f} ms, {bare / ours if ours else 0:.2f}x"


def measure_reads(name: str, ours: dict, bare: dict, *, rounds: int, seconds: float) -> list[Result]:
    for target in (ours, bare):  # warm-up: connections, prepared statements, caches
        wrk(connections=32, seconds=1, **{k: v for k, v in target.items() if k != "server"})
    rps_bare, rps_ours, _, _, cpu_bare, cpu_ours = alternate(rounds, seconds, 32, ours, bare, name)
    _, _, p99_bare, p99_ours, cpu1_bare, cpu1_ours = alternate(rounds, seconds, 1, ours, bare, name)
    return [
        ratio_result(
            f"{name}: req/s at 32 conn",
            rps_bare,
            rps_ours,
            unit="req/s",
            target=0.7,
            higher_is_better=True,
            note=cpu_note(cpu_bare, cpu_ours),
        ),
        ratio_result(
            f"{name}: p99 at 1 conn",
            p99_bare,
            p99_ours,
            unit="ms",
            target=2.0,
            higher_is_better=False,
            note=cpu_note(cpu1_bare, cpu1_ours),
        ),
    ]


async def run(*, rounds: int, seconds: float, rows: int) -> list[Result]:
    jwt_secret = secrets.token_urlsafe(32)
    private_key, public_key = sealing.generate_keypair()
    results: list[Result] = []
    with scratch_dir() as scratch, embedded_postgres(scratch) as pg, embedded_nats(scratch) as nats:
        urls = {
            definition.name: await migrated(pg, f"esign_{definition.name}", definition.migrations_dir)
            for definition in (APPLICATIONS, NOTIFICATIONS, TRACKING)
        }
        institution, application = await seed_applications(urls["applications"], rows)
        queries = await seed_shipments(urls["tracking"], max(10, rows // 10))
        servers: dict[str, Server] = {}
        with serving(servers):
            servers["applications"] = launch_applications(
                urls["applications"], nats.url, jwt_secret, public_key, scratch
            )
            servers["notifications"] = launch_uvicorn(
                "notifications",
                "services.notifications.app:create_app",
                service_env(
                    "ESIGN_NOTIFICATIONS_",
                    urls["notifications"],
                    nats.url,
                    jwt_secret,
                    SEAL_PRIVATE_KEY=private_key,
                    SMS_SINK_DIR=str(scratch / "sms"),
                ),
                scratch,
            )
            servers["tracking"] = launch_tracking(urls["tracking"], nats.url, jwt_secret, scratch)
            bare = launch_bare("bare", "bench.bare_api", urls["tracking"], scratch)
            bare_applications = launch_bare("bare-applications", "bench.bare_api", urls["applications"], scratch)
            servers["bare"], servers["bare-applications"] = bare, bare_applications
            wait_ready(list(servers.values()))
            await asyncio.sleep(2)  # let start-up work (consumers binding, first polls) settle
            idle = {name: servers[name].rss_mib() for name in ("applications", "notifications", "tracking")}
            bare_idle = bare_applications.rss_mib()

            token = mint_token(jwt_secret, subject="bench", role=Role.INSTITUTION_OFFICER, institution_id=institution)
            auth = {"Authorization": f"Bearer {token}"}
            app_url, bare_url = servers["applications"].url, bare_applications.url
            async with httpx.AsyncClient() as client:
                probe = await client.get(f"{app_url}/v1/applications/{application}", headers=auth)
            if probe.status_code != 200:
                raise SystemExit(f"the service refused the benchmark's request: {probe.status_code} {probe.text}")
            results += measure_reads(
                "GET /v1/applications/{id}",
                {"url": f"{app_url}/v1/applications/{application}", "headers": auth, "server": servers["applications"]},
                {"url": f"{bare_url}/applications/{application}", "server": bare_applications},
                rounds=rounds,
                seconds=seconds,
            )
            results += measure_reads(
                "GET /v1/applications?status= (50 rows)",
                {
                    "url": f"{app_url}/v1/applications?status=invited&limit=50",
                    "headers": auth,
                    "server": servers["applications"],
                },
                {
                    "url": f"{bare_url}/applications?institution_id={institution}&status=invited&limit=50",
                    "server": bare_applications,
                },
                rounds=rounds,
                seconds=seconds,
            )
            loaded = {"applications": servers["applications"].rss_mib()}

            number, digits = queries[len(queries) // 2]
            body = json.dumps({"tracking_number": number, "mobile_last4": digits})
            post = {"method": "POST", "body": body, "headers": {"Content-Type": "application/json"}}
            ours = {"url": f"{servers['tracking'].url}/v1/public/shipment-queries", **post}
            baseline = {"url": f"{bare.url}/shipment-queries", **post}
            for target in (ours, baseline):
                wrk(connections=32, seconds=1, **target)
            ours["server"], baseline["server"] = servers["tracking"], bare
            rps_bare, rps_ours, _, _, cpu_bare, cpu_ours = alternate(
                rounds, seconds, 32, ours, baseline, "shipment query"
            )
            results.append(
                ratio_result(
                    "POST /v1/public/shipment-queries: req/s",
                    rps_bare,
                    rps_ours,
                    unit="req/s",
                    target=0.5,
                    higher_is_better=True,
                    note=cpu_note(cpu_bare, cpu_ours),
                )
            )
            loaded["tracking"] = servers["tracking"].rss_mib()
            for name, mib in idle.items():
                results.append(
                    Result(
                        f"memory: {name} idle",
                        bare_idle,
                        mib,
                        "MiB",
                        0,
                        False,
                        limit=MEMORY_LIMIT_MIB,
                        note="baseline: bare app idle",
                    )
                )
            for name, mib in loaded.items():
                results.append(
                    Result(
                        f"memory: {name} after its load",
                        bare_applications.rss_mib(),
                        mib,
                        "MiB",
                        0,
                        False,
                        limit=MEMORY_LIMIT_MIB,
                        note="baseline: bare app after its load",
                    )
                )
    return results


def command_line(run: Callable[..., Coroutine[Any, Any, list[Result]]], doc: str, argv: list[str] | None = None) -> int:
    """The options of the HTTP benchmarks (this one and ``bench.stack_floor``), and the run."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rows", type=int, default=500, help="staff in the seeded institution")
    args = parser.parse_args(argv)
    return run_and_report(run(rounds=args.rounds, seconds=args.seconds, rows=args.rows))


def main(argv: list[str] | None = None) -> int:
    return command_line(run, __doc__ or "", argv)


if __name__ == "__main__":
    sys.exit(main())
