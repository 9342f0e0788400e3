"""How far the API targets (benchmarks 1 and 6) can be met on this stack at all: the bare endpoint
against itself plus, one rung at a time, the parts of the stack a service cannot do without
(``bench/floor_api.py``), and against the service. Same servers, same database, alternating
rounds, as ``bench/http_api.py`` measures. A rung that misses the target shows that no service
built on it can meet it; the gap between the last rung and the service is the service's own.

Not part of ``make bench`` (its rows have no target of their own); its figures are in
docs/benchmarks.md.

    .venv/bin/python -m bench.stack_floor [--rounds 3] [--seconds 5]
"""

from __future__ import annotations

import json
import secrets
import sys
from typing import Any

from bench.harness import (
    Result,
    Server,
    embedded_nats,
    embedded_postgres,
    migrated,
    ratio_result,
    scratch_dir,
    serving,
    wait_ready,
    wrk,
)
from bench.http_api import (
    alternate,
    command_line,
    cpu_note,
    launch_applications,
    launch_bare,
    launch_tracking,
    seed_applications,
    seed_shipments,
)
from esign import sealing
from esign.auth import Role, mint_token
from services.applications.app import DEFINITION as APPLICATIONS
from services.tracking.app import DEFINITION as TRACKING

READ_RUNGS = ["auth-model", "sqlalchemy-pool", "sqlalchemy-core"]
PAGE_RUNGS = ["auth-model", "sqlalchemy-pool"]
QUERY_RUNGS = ["counted", "counted-models"]


def request_to(server: Server, path: str, **request: Any) -> dict[str, Any]:
    """What ``alternate`` drives: ``wrk``'s request to ``server`` and the server whose CPU counts."""
    return {"url": server.url + path, **request, "server": server}


def rungs_of(
    floor: Server, paths: dict[str, str], service: Server, service_path: str, **request: Any
) -> dict[str, dict[str, Any]]:
    """The floor app's rungs (name -> path), then the service as the last one."""
    rungs = {rung: request_to(floor, path, **request) for rung, path in paths.items()}
    return rungs | {"service": request_to(service, service_path, **request)}


def ladder(
    name: str, bare: dict, rungs: dict[str, dict], *, target: float, rounds: int, seconds: float
) -> list[Result]:
    results = []
    for rung, request in rungs.items():
        wrk(connections=32, seconds=1, **{k: v for k, v in request.items() if k != "server"})
        rps_bare, rps_rung, _, _, cpu_bare, cpu_rung = alternate(rounds, seconds, 32, request, bare, f"{name} {rung}")
        results.append(
            ratio_result(
                f"{name}: {rung}",
                rps_bare,
                rps_rung,
                unit="req/s",
                target=target,
                higher_is_better=True,
                note=cpu_note(cpu_bare, cpu_rung),
            )
        )
    return results


async def run(*, rounds: int, seconds: float, rows: int) -> list[Result]:
    jwt_secret = secrets.token_urlsafe(32)
    _, public_key = sealing.generate_keypair()
    with scratch_dir() as scratch, embedded_postgres(scratch) as pg, embedded_nats(scratch) as nats:
        urls = {d.name: await migrated(pg, f"esign_{d.name}", d.migrations_dir) for d in (APPLICATIONS, TRACKING)}
        institution, application = await seed_applications(urls["applications"], rows)
        number, digits = (await seed_shipments(urls["tracking"], 10))[5]
        servers = {
            "applications": launch_applications(urls["applications"], nats.url, jwt_secret, public_key, scratch),
            "tracking": launch_tracking(urls["tracking"], nats.url, jwt_secret, scratch),
            "bare": launch_bare("bare", "bench.bare_api", urls["applications"], scratch),
            "bare-tracking": launch_bare("bare-tracking", "bench.bare_api", urls["tracking"], scratch),
            "floor": launch_bare(
                "floor",
                "bench.floor_api",
                urls["applications"],
                scratch,
                BENCH_TRACKING_URL=urls["tracking"],
                BENCH_JWT_SECRET=jwt_secret,
            ),
        }
        with serving(servers):
            wait_ready(list(servers.values()))
            token = mint_token(jwt_secret, subject="bench", role=Role.INSTITUTION_OFFICER, institution_id=institution)
            auth = {"Authorization": f"Bearer {token}"}
            floor = servers["floor"]
            apps, bare = servers["applications"], servers["bare"]
            read_rungs = rungs_of(
                floor,
                {r: f"/{r}/{application}" for r in READ_RUNGS},
                apps,
                f"/v1/applications/{application}",
                headers=auth,
            )
            bare_read = request_to(bare, f"/applications/{application}")
            results = ladder(
                "GET /applications/{id} floor", bare_read, read_rungs, target=0.7, rounds=rounds, seconds=seconds
            )
            query = f"institution_id={institution}&status=invited&limit=50"
            page_rungs = rungs_of(
                floor,
                {r: f"/pages/{r}?{query}" for r in PAGE_RUNGS},
                apps,
                "/v1/applications?status=invited&limit=50",
                headers=auth,
            )
            results += ladder(
                "GET /applications (50 rows) floor",
                request_to(bare, f"/applications?{query}"),
                page_rungs,
                target=0.7,
                rounds=rounds,
                seconds=seconds,
            )

            # PostgreSQL's 100 connections do not hold every pool of both halves at once.
            apps.stop()
            bare.stop()
            post = {
                "method": "POST",
                "body": json.dumps({"tracking_number": number, "mobile_last4": digits}),
                "headers": {"Content-Type": "application/json"},
            }
            query_rungs = rungs_of(
                floor,
                {r: f"/{r}/shipment-queries" for r in QUERY_RUNGS},
                servers["tracking"],
                "/v1/public/shipment-queries",
                **post,
            )
            results += ladder(
                "POST shipment query floor",
                request_to(servers["bare-tracking"], "/shipment-queries", **post),
                query_rungs,
                target=0.5,
                rounds=rounds,
                seconds=seconds,
            )
            return results


def main(argv: list[str] | None = None) -> int:
    return command_line(run, __doc__ or "", argv)


if __name__ == "__main__":
    sys.exit(main())
