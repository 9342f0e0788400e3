"""Roster import speed: 10,000 staff rows through the real import handler (validation and bulk
statements on a real PostgreSQL) against a baseline that inserts the same rows one statement per
row, in the same run. Prints both times and their ratio (lower is better).

    .venv/bin/python bench/roster_import.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from esign import migrations
from esign.auth import Principal, Role
from esign.db import make_engine, make_session_factory
from esign.embedded import EmbeddedPostgres
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


async def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch).chmod(0o755)
        pg = EmbeddedPostgres(Path(scratch) / "pg", persistent=False).start()
        url = pg.ensure_database("bench")
        await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        content = csv_file(rows)

        async def new_institution() -> uuid.UUID:
            institution = uuid.uuid4()
            async with sessions() as s, s.begin():
                await s.execute(sa.insert(orm.institutions).values(id=institution, name=f"Bench {institution}"))
            return institution

        # The real thing: parse, validate every row, bulk-insert people, applications, invitations, audit.
        institution = await new_institution()
        officer = Principal("bench", Role.INSTITUTION_OFFICER, institution_id=institution)
        started = time.perf_counter()
        async with ApplicationsUnitOfWork(sessions, messaging, "applications") as uow:
            records = read_roster_file(content, "text/csv", "staff.csv")
            result = await import_roster(ImportRoster(institution, records, date.today()), uow, officer)
            await uow.commit()
        bulk = time.perf_counter() - started
        assert result.created == rows

        # Baseline: the same people rows, one INSERT round trip each (what "row by row" costs).
        institution = await new_institution()
        started = time.perf_counter()
        async with sessions() as s, s.begin():
            for n in range(rows):
                await s.execute(
                    sa.insert(orm.people).values(
                        id=uuid.uuid4(),
                        institution_id=institution,
                        tckn=tckn(n),
                        first_name="Ayşe",
                        last_name="Yılmazoğlu",
                        birth_date=date(1985, 4, 12),
                        title="Öğr. Gör.",
                        unit="Bilgi İşlem",
                        email=f"kisi{n}@ornek.edu.tr",
                        mobile=f"+90532{n:07d}",
                    )
                )
        row_by_row = time.perf_counter() - started

        await engine.dispose()
        pg.stop()
    print(f"rows: {rows}")
    print(f"import (validate + people + applications + invitations + audit, bulk): {bulk:.2f} s")
    print(f"baseline (people only, one INSERT per row):                          {row_by_row:.2f} s")
    print(f"ratio import/baseline: {bulk / row_by_row:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().rows))
