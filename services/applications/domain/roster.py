"""Validation of the staff list an institution's NES officer sends in.

The officer fixes a list in one go, so every row is checked and every error of
a row is reported, not just the first one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from esign.masking import mask_email
from services.applications.domain.contact import (
    TITLE_MAX_LEN,
    UNIT_MAX_LEN,
    FieldInvalid,
    parse_birth_date,
    parse_email,
    parse_person_name,
    parse_text,
    parse_turkish_mobile,
)
from services.applications.domain.tckn import InvalidTCKimlikNo, TCKimlikNo

BIRTH_PLACE_MAX_LEN = 100
# Required columns; the place of birth ("Doğum Yeri") may be left out.
ROSTER_FIELDS = (
    "tckn",
    "first_name",
    "last_name",
    "birth_date",
    "title",
    "unit",
    "email",
    "mobile",
)


@dataclass(frozen=True)
class RosterRow:
    line: int
    tckn: TCKimlikNo
    first_name: str
    last_name: str
    birth_date: date = field(repr=False)  # personal data: kept out of logged reprs
    title: str
    unit: str
    email: str
    mobile: str  # E.164
    birth_place: str | None = None  # an optional column: the form prints it when the list has it


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    code: str
    message: str


@dataclass
class RosterReport:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _optional(parse: Callable[[str], str]) -> Callable[[str], str | None]:
    """An optional column: an empty (or absent) cell is None, anything else is checked as usual."""
    return lambda raw: parse(raw) if raw.strip() else None


def _field_parsers(today: date) -> dict[str, Callable[[str], object]]:
    return {
        "tckn": TCKimlikNo.parse,
        "first_name": partial(parse_person_name, field="first_name"),
        "last_name": partial(parse_person_name, field="last_name"),
        "birth_date": partial(parse_birth_date, today=today),
        "title": partial(parse_text, max_len=TITLE_MAX_LEN),
        "unit": partial(parse_text, max_len=UNIT_MAX_LEN),
        "email": parse_email,
        "mobile": parse_turkish_mobile,
        "birth_place": _optional(partial(parse_text, max_len=BIRTH_PLACE_MAX_LEN)),
    }


class _FirstSeen:
    """Remembers the first line of each key, so each duplicate check is O(1)."""

    def __init__(self, field_name: str, label: str) -> None:
        self._field = field_name
        self._label = label
        self._lines: dict[object, int] = {}

    def check(self, key: object, shown: str, line: int) -> RowError | None:
        """``shown`` is the masked value the message may name."""
        first = self._lines.setdefault(key, line)
        if first == line:
            return None
        return RowError(
            line,
            self._field,
            "duplicate_in_file",
            f"{self._label} {shown} is already on line {first}.",
        )


def validate_roster(records: Iterable[tuple[int, Mapping[str, str]]], today: date) -> RosterReport:
    """Check every record; the report's rows are the records without any error."""
    parsers = _field_parsers(today)
    seen_tckn = _FirstSeen("tckn", "TC Kimlik No")
    seen_email = _FirstSeen("email", "E-mail")
    report = RosterReport()

    for line, record in records:
        values: dict[str, Any] = {}  # typed per column by its parser
        errors: list[RowError] = []
        for name, parse in parsers.items():
            try:
                values[name] = parse(record.get(name, ""))
            except (FieldInvalid, InvalidTCKimlikNo) as exc:
                errors.append(RowError(line, name, exc.code, exc.message))

        duplicates = []
        if isinstance(tckn := values.get("tckn"), TCKimlikNo):
            duplicates.append(seen_tckn.check(tckn, tckn.masked(), line))
        if isinstance(email := values.get("email"), str):
            # Mailboxes are case-insensitive in practice, whatever RFC 5321 allows.
            duplicates.append(seen_email.check(email.casefold(), mask_email(email), line))
        errors.extend(error for error in duplicates if error is not None)

        if errors:
            report.errors.extend(errors)
        else:
            report.rows.append(RosterRow(line=line, **values))
    return report
