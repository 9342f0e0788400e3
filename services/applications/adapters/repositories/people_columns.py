"""The people columns as the queries that join them read them: the TC Kimlik No and birth date
are stored encrypted (adapters/personal_data.py), so a row's person is opened with the codec into
a ``PersonRecord`` with both in plain (masked wherever they are shown)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from services.applications.adapters import orm
from services.applications.adapters.personal_data import PeopleCodec


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: uuid.UUID
    institution_id: uuid.UUID
    tckn: str
    first_name: str
    last_name: str
    birth_date: date
    birth_place: str | None  # the staff list's optional column
    title: str
    unit: str
    email: str
    mobile: str


def person_columns() -> list[sa.ColumnElement[Any]]:
    """Every people column a ``PersonRecord`` needs, labelled ``person_*`` so they join with others."""
    p = orm.people
    return [
        p.c.id.label("person_id"),
        p.c.institution_id.label("person_institution_id"),
        p.c.tckn_encrypted.label("person_tckn_encrypted"),
        p.c.first_name.label("person_first_name"),
        p.c.last_name.label("person_last_name"),
        p.c.birth_date_encrypted.label("person_birth_date_encrypted"),
        p.c.birth_place_encrypted.label("person_birth_place_encrypted"),
        p.c.title.label("person_title"),
        p.c.unit.label("person_unit"),
        p.c.email.label("person_email"),
        p.c.mobile.label("person_mobile"),
    ]


def open_person(codec: PeopleCodec, row: sa.Row[Any]) -> PersonRecord:
    """The person of a row selected with ``person_columns()``."""
    person_id = row.person_id
    return PersonRecord(
        id=person_id,
        institution_id=row.person_institution_id,
        tckn=codec.open_tckn(person_id, row.person_tckn_encrypted),
        first_name=row.person_first_name,
        last_name=row.person_last_name,
        birth_date=codec.open_birth_date(person_id, row.person_birth_date_encrypted),
        birth_place=codec.open_birth_place(person_id, row.person_birth_place_encrypted),
        title=row.person_title,
        unit=row.person_unit,
        email=row.person_email,
        mobile=row.person_mobile,
    )


def sealed_person(codec: PeopleCodec, person: PersonRecord) -> dict[str, Any]:
    """A new person's row as stored: the TC Kimlik No, birth date and place of birth as
    ciphertexts bound to the person's id, and the TC Kimlik No's look-up hash."""
    return {
        "id": person.id,
        "institution_id": person.institution_id,
        "tckn_encrypted": codec.seal_tckn(person.id, person.tckn),
        "tckn_hash": codec.tckn_hash(person.tckn),
        "tckn_hash_key": codec.lookup_key_id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date_encrypted": codec.seal_birth_date(person.id, person.birth_date),
        "birth_place_encrypted": codec.seal_birth_place(person.id, person.birth_place),
        "title": person.title,
        "unit": person.unit,
        "email": person.email,
        "mobile": person.mobile,
    }
