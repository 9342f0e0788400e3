"""Staff-list import (issue 13, benchmark 3): 10,000 rows through the real import handler (parse
the file, validate every row, people, applications, invitations and audit entries in one
transaction) against PostgreSQL ``COPY`` of the same rows, already in memory, into the same four
tables in one transaction. Rounds alternate; each round imports into a fresh institution.
Target: the import at most 3x the ``COPY``.

    .venv/bin/python -m bench.roster_import [--rows 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg
import sqlalchemy as sa

from bench.harness import (
    Result,
    embedded_postgres,
    interleaved_seconds,
    migrated,
    people_codec,
    ratio_result,
    run_and_report,
    scratch_dir,
)
from esign.auth import Principal, Role
from esign.clock import SYSTEM_CLOCK
from esign.db import make_engine, make_session_factory
from esign.service import settle_startup_heap
from services.applications.adapters import orm
from services.applications.adapters.orm import messaging
from services.applications.adapters.roster_files import read_roster_file
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.app import DEFINITION
from services.applications.domain.tckn import check_digits
from services.applications.handlers.roster import ImportRoster, import_roster


def tckn(n: int) -> str:
    first_nine = str(100000000 + n * 7919)
    return first_nine + check_digits(first_nine)


def csv_file(rows: int) -> bytes:
    lines = ["TC Kimlik No;Ad;Soyad;Doğum Tarihi;Unvan;Birim;E-posta;Cep Telefonu"]
    lines += [
        f"{tckn(n)};Ayşe;Yılmazoğlu;12.04.1985;Öğr. Gör.;Bilgi İşlem;kisi{n}@ornek.edu.tr;0532{n:07d}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def copy_records(institution: uuid.UUID, rows: int) -> dict[str, tuple[list[str], list[tuple]]]:
    """The rows the import writes, as ``COPY`` takes them: table -> (columns, records)."""
    now = datetime.now(UTC)
    codec = people_codec()  # the baseline pays for the encryption at rest too
    people, applications, invitations, transitions = [], [], [], []
    for n in range(rows):
        person, application = uuid.uuid4(), uuid.uuid4()
        mobile, email = f"+90532{n:07d}", f"kisi{n}@ornek.edu.tr"
        people.append(
            (
                person,
                institution,
                codec.seal_tckn(person, tckn(n)),
                codec.tckn_hash(tckn(n)),
                "Ayşe",
                "Yılmazoğlu",
                codec.seal_birth_date(person, date(1985, 4, 12)),
                "Öğr. Gör.",
                "Bilgi İşlem",
                email,
                mobile,
            )
        )
        form = {"unit": "Bilgi İşlem", "title": "Öğr. Gör.", "institutional_email": email, "mobile": mobile}
        applications.append((application, institution, person, "invited", json.dumps(form, ensure_ascii=False)))
        invitations.append((uuid.uuid4(), application, "pending"))
        transitions.append((application, "new", "invited", "institution_officer", "bench", "roster import", now))
    return {
        "people": (
            [
                "id",
                "institution_id",
                "tckn_encrypted",
                "tckn_hash",
                "first_name",
                "last_name",
                "birth_date_encrypted",
                "title",
                "unit",
                "email",
                "mobile",
            ],
            people,
        ),
        "applications": (["id", "institution_id", "person_id", "status", "form"], applications),
        "invitations": (["id", "application_id", "state"], invitations),
        "transitions": (
            ["application_id", "from_status", "to_status", "actor_role", "actor_subject", "reason", "at"],
            transitions,
        ),
    }


async def run(*, rows: int, rounds: int) -> list[Result]:
    with scratch_dir() as scratch, embedded_postgres(scratch) as pg:
        url = await migrated(pg, "bench", DEFINITION.migrations_dir)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        content = csv_file(rows)
        raw = await asyncpg.connect(url)

        async def new_institution() -> uuid.UUID:
            institution = uuid.uuid4()
            async with sessions() as s, s.begin():
                await s.execute(sa.insert(orm.institutions).values(id=institution, name=f"Bench {institution}"))
            return institution

        async def through_import() -> float:
            institution = await new_institution()
            officer = Principal("bench", Role.INSTITUTION_OFFICER, institution_id=institution)
            started = time.perf_counter()
            async with ApplicationsUnitOfWork(sessions, messaging, "applications", codec=people_codec()) as uow:
                records = read_roster_file(content, "text/csv", "staff.csv")
                result = await import_roster(
                    ImportRoster(institution, records), uow, principal=officer, clock=SYSTEM_CLOCK
                )
                await uow.commit()
            elapsed = time.perf_counter() - started
            assert result.created == rows, result
            return elapsed

        async def through_copy() -> float:
            tables = copy_records(await new_institution(), rows)
            started = time.perf_counter()
            async with raw.transaction():
                for table, (columns, records) in tables.items():
                    await raw.copy_records_to_table(table, records=records, columns=columns)
            return time.perf_counter() - started

        await through_copy()  # warm-up: catalogs, the first pages of every table and index
        settle_startup_heap()  # as a service process is when it imports (esign.service)
        copy_ms, import_ms = await interleaved_seconds(rounds, through_copy, through_import)
        await raw.close()
        await engine.dispose()
    return [
        ratio_result(
            f"staff-list import, {rows:,} rows (vs COPY)",
            copy_ms,
            import_ms,
            unit="ms",
            target=3.0,
            higher_is_better=False,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    return run_and_report(run(rows=args.rows, rounds=args.rounds))


if __name__ == "__main__":
    sys.exit(main())
