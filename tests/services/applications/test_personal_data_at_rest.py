"""The TC Kimlik No, birth date and place of birth at rest (docs/personal-data.md): stored only encrypted, read
back in plain by the API (masked), found by their keyed hash; the migration that encrypts rows
stored before, and that refuses to run without keys rather than lose them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from esign import migrations
from esign.db import make_engine, make_session_factory
from esign.field_crypto import FieldCipher, FieldKeys
from services.applications.adapters import orm
from services.applications.adapters.orm import messaging
from services.applications.adapters.personal_data import PeopleCodec
from services.applications.adapters.repositories.people_columns import PersonRecord
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.app import DEFINITION
from services.applications.handlers.key_rotation import reencrypt_personal_data
from tests.support.applications import FIELD_KEYS, FIELD_LOOKUP_KEY, make_tckn, person, roster_csv

KEYS = {"ESIGN_APPLICATIONS_FIELD_KEYS": FIELD_KEYS, "ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY": FIELD_LOOKUP_KEY}
CODEC = PeopleCodec(FieldCipher(FieldKeys.parse(FIELD_KEYS, FIELD_LOOKUP_KEY)))
ROSTER_EXTRA = {
    "first_name": "Elif",
    "last_name": "Şahin",
    "title": "Uzman",
    "unit": "BİDB",
    "email": "elif@ornek.edu.tr",
    "mobile": "+905321234567",
}


async def people_rows(url: str, where: str = "TRUE", **params) -> list[sa.Row]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return list(
                (await conn.execute(sa.text(f"SELECT p.*, p::text AS whole FROM people p WHERE {where}"), params)).all()
            )
    finally:
        await engine.dispose()


async def test_the_roster_stores_neither_number_nor_birth_date_nor_birth_place_in_plain(flow, applications_settings):
    institution = await flow.institution()
    someone = {**person(9101), "birth_date": "1979-11-23"}
    with_place = roster_csv([someone]).replace(b"birth_date;", b"birth_date;Do\xc4\x9fum Yeri;", 1)
    with_place = with_place.replace(b"1979-11-23;", "1979-11-23;Kahramanmaraş;".encode(), 1)
    uploaded = await flow.client.post(
        f"/v1/institutions/{institution}/roster",
        content=with_place,
        headers={**flow.auth.officer(institution), "Content-Type": "text/csv"},
    )
    assert uploaded.status_code == 200, uploaded.text
    [row] = await people_rows(
        applications_settings.database_url.get_secret_value(), "institution_id = :i", i=uuid.UUID(institution)
    )
    assert someone["tckn"] not in row.whole and "1979-11-23" not in row.whole and "1979" not in row.whole
    assert "Kahramanmara" not in row.whole and not hasattr(row, "birth_place")
    assert CODEC.open_tckn(row.id, row.tckn_encrypted) == someone["tckn"]
    assert CODEC.open_birth_date(row.id, row.birth_date_encrypted) == date(1979, 11, 23)
    assert CODEC.open_birth_place(row.id, row.birth_place_encrypted) == "Kahramanmaraş"
    assert row.tckn_hash == CODEC.tckn_hash(someone["tckn"])

    # Read back through the API: masked, from the decrypted values; the place of birth in full,
    # as the officer checks it against the form.
    [shown] = await flow.applications(institution)
    assert shown["person"]["tckn_masked"] == f"{someone['tckn'][:3]}******{someone['tckn'][-2:]}"
    assert shown["person"]["birth_date_masked"].endswith("1979")
    assert shown["person"]["birth_place"] == "Kahramanmaraş"
    # The same person again is found by the keyed hash: not duplicated.
    again = await flow.upload(institution, [someone])
    assert again.json()["created"] == 0 and again.json()["already_known"] == 1


@pytest.fixture
def database(postgres):
    name = f"esign_applications_migration_{uuid.uuid4().hex[:8]}"
    return postgres.ensure_database(name)


async def stored_before_encryption(url: str, count: int) -> list[tuple[uuid.UUID, str, date]]:
    """A database at revision 0004 with ``count`` people stored in plain, as before 0005."""
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url, "0004")
    engine = make_engine(url)
    institution = uuid.uuid4()
    people = [(uuid.uuid4(), make_tckn(500 + n), date(1970 + n % 30, 1 + n % 12, 1 + n % 28)) for n in range(count)]
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO institutions (id, name) VALUES (:id, 'Eski Üniversite')"), {"id": institution}
        )
        await conn.execute(
            sa.text(
                "INSERT INTO people (id, institution_id, tckn, first_name, last_name, birth_date, title, unit, "
                "email, mobile) VALUES (:id, :inst, :tckn, 'Ayşe', 'Kaya', :birth, 'Uzman', 'BİDB', "
                "'ayse@ornek.edu.tr', '+905321234567')"
            ),
            [{"id": i, "inst": institution, "tckn": t, "birth": b} for i, t, b in people],
        )
    await engine.dispose()
    return people


@pytest.mark.parametrize("keys_from", ["environment", "given"])  # a container's Secret; `esign up`'s own process
async def test_the_migration_encrypts_rows_stored_before_and_drops_the_plain_columns(database, monkeypatch, keys_from):
    people = await stored_before_encryption(database, 1200)  # more than one batch of the migration
    for name, value in KEYS.items():
        if keys_from == "environment":
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    given = KEYS if keys_from == "given" else None
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database, settings=given)

    rows = {row.id: row for row in await people_rows(database)}
    assert len(rows) == len(people)
    for person_id, tckn, birth_date in people:
        row = rows[person_id]
        assert not hasattr(row, "tckn") and not hasattr(row, "birth_date")
        assert tckn not in row.whole and birth_date.isoformat() not in row.whole
        assert CODEC.open_tckn(person_id, row.tckn_encrypted) == tckn
        assert CODEC.open_birth_date(person_id, row.birth_date_encrypted) == birth_date
        assert row.tckn_hash == CODEC.tckn_hash(tckn)
        assert row.tckn_hash_key == "l1"  # the one bare look-up key there was (0008)


async def test_the_migration_encrypts_places_of_birth_stored_before_and_drops_the_plain_column(database, monkeypatch):
    people = await stored_before_encryption(database, 3)
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database, "0005", settings=KEYS)
    places = {people[0][0]: "Kahramanmaraş", people[1][0]: "İzmir"}  # the third had none on its list
    engine = make_engine(database)
    async with engine.begin() as conn:
        for person_id, place in places.items():
            await conn.execute(
                sa.text("UPDATE people SET birth_place = :p WHERE id = :id"), {"p": place, "id": person_id}
            )
    await engine.dispose()
    monkeypatch.delenv("ESIGN_APPLICATIONS_FIELD_KEYS", raising=False)
    monkeypatch.delenv("ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY", raising=False)
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database, settings=KEYS)

    rows = {row.id: row for row in await people_rows(database)}
    assert all(not hasattr(row, "birth_place") for row in rows.values())
    assert {pid: CODEC.open_birth_place(pid, row.birth_place_encrypted) for pid, row in rows.items()} == {
        **places,
        people[2][0]: None,
    }
    assert not any("Kahramanmara" in row.whole or "İzmir" in row.whole for row in rows.values())


async def test_without_keys_the_migration_changes_nothing(database, monkeypatch):
    [(person_id, tckn, _)] = await stored_before_encryption(database, 1)
    monkeypatch.delenv("ESIGN_APPLICATIONS_FIELD_KEYS", raising=False)
    monkeypatch.delenv("ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY", raising=False)
    with pytest.raises((ValueError, SQLAlchemyError), match="FIELD_KEYS"):
        await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database)
    assert await asyncio.to_thread(migrations.current, DEFINITION.migrations_dir, database) == "0004"
    [row] = await people_rows(database)
    assert (row.id, row.tckn) == (person_id, tckn)


async def test_after_a_rotation_people_are_reencrypted_with_the_new_key_once(database):
    """On its own database: the pass re-encrypts every person, which the session's app (holding
    only the old key) could no longer read."""
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database)
    new_keys, _ = FieldKeys.generate("k2")
    rotated = PeopleCodec(FieldCipher(FieldKeys.parse(f"{new_keys},{FIELD_KEYS}", FIELD_LOOKUP_KEY)))
    engine = make_engine(database)
    sessions = make_session_factory(engine)

    def uow(codec: PeopleCodec) -> ApplicationsUnitOfWork:
        return ApplicationsUnitOfWork(sessions, messaging, "applications", codec=codec)

    institution = uuid.uuid4()
    people = {uuid.uuid4(): (make_tckn(700 + n), date(1980, 1, 1 + n)) for n in range(5)}
    places = {pid: ("Sivas" if n % 2 else None) for n, pid in enumerate(people)}
    async with uow(CODEC) as old:
        await old.session.execute(sa.insert(orm.institutions).values(id=institution, name="Döner Üniversitesi"))
        await old.people.add_many(
            [
                PersonRecord(
                    **ROSTER_EXTRA,
                    id=pid,
                    institution_id=institution,
                    tckn=tckn,
                    birth_date=born,
                    birth_place=places[pid],
                )
                for pid, (tckn, born) in people.items()
            ]
        )
        await old.commit()

    async def one_pass() -> int:
        async with uow(rotated) as u:
            return await reencrypt_personal_data(u, batch_size=2)

    # Two replicas at once, then until a pass finds nothing: each row re-encrypted, none lost.
    await asyncio.gather(one_pass(), one_pass())
    for _ in range(5):
        await one_pass()
    rows = await people_rows(database)
    assert {r.tckn_encrypted.split(".")[1] for r in rows} == {"k2"}
    assert {r.birth_date_encrypted.split(".")[1] for r in rows} == {"k2"}
    assert {r.birth_place_encrypted.split(".")[1] for r in rows if r.birth_place_encrypted} == {"k2"}
    async with uow(rotated) as u:
        for pid, (tckn, born) in people.items():
            found = await u.people.get(pid)
            assert (found.tckn, found.birth_date, found.birth_place) == (tckn, born, places[pid])
        assert await u.people.known_tckns(institution, [t for t, _ in people.values()]) == {
            t for t, _ in people.values()
        }
    await engine.dispose()


async def test_after_a_look_up_key_rotation_people_are_still_found_and_rehashed_under_the_new_key(database):
    """A new look-up key first, the old one after it: a staff list finds everyone at once (the
    look-up tries both keys, so nobody is added twice); the worker recomputes every hash under the
    new key, after which the old key can go and everyone is still found."""
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, database)
    _, new_lookup = FieldKeys.generate()
    both = PeopleCodec(FieldCipher(FieldKeys.parse(FIELD_KEYS, f"l2:{new_lookup},l1:{FIELD_LOOKUP_KEY}")))
    only_new = PeopleCodec(FieldCipher(FieldKeys.parse(FIELD_KEYS, f"l2:{new_lookup}")))
    engine = make_engine(database)
    sessions = make_session_factory(engine)

    def uow(codec: PeopleCodec) -> ApplicationsUnitOfWork:
        return ApplicationsUnitOfWork(sessions, messaging, "applications", codec=codec)

    institution = uuid.uuid4()
    people = {uuid.uuid4(): make_tckn(900 + n) for n in range(5)}
    async with uow(CODEC) as old:
        await old.session.execute(sa.insert(orm.institutions).values(id=institution, name="Anahtar Üniversitesi"))
        await old.people.add_many(
            [
                PersonRecord(
                    **ROSTER_EXTRA,
                    id=pid,
                    institution_id=institution,
                    tckn=tckn,
                    birth_date=date(1990, 2, 3),
                    birth_place=None,
                )
                for pid, tckn in people.items()
            ]
        )
        await old.commit()
    assert {r.tckn_hash_key for r in await people_rows(database)} == {"l1"}

    async with uow(both) as u:  # before any rehash: found through the old key
        assert await u.people.known_tckns(institution, people.values()) == set(people.values())
    async with uow(only_new) as u:  # (without the old key they would not be)
        assert await u.people.known_tckns(institution, people.values()) == set()

    async def one_pass() -> int:
        async with uow(both) as u:
            return await reencrypt_personal_data(u, batch_size=2)

    await asyncio.gather(one_pass(), one_pass())
    for _ in range(5):
        await one_pass()
    rows = {r.id: r for r in await people_rows(database)}
    assert {r.tckn_hash_key for r in rows.values()} == {"l2"}
    assert {pid: rows[pid].tckn_hash for pid in people} == {pid: only_new.tckn_hash(t) for pid, t in people.items()}
    async with uow(only_new) as u:  # the old look-up key removed: everyone still found
        assert await u.people.known_tckns(institution, people.values()) == set(people.values())
    await engine.dispose()
