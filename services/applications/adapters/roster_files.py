"""Reading an uploaded staff list (CSV or JSON) into records for ``validate_roster``.

Only the file's shape is judged here: encoding, format, columns, row count.
The values themselves are checked by the domain, row by row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import PurePath

from services.applications.domain.roster import ROSTER_FIELDS

Record = tuple[int, dict[str, str]]

# Column names as officers write them, after _fold(). Turkish letters are
# folded to ASCII because people without a Turkish keyboard type "Dogum Tarihi".
_COLUMN_ALIASES = {
    "tckn": "tckn",
    "tckimlikno": "tckn",
    "firstname": "first_name",
    "ad": "first_name",
    "adi": "first_name",
    "lastname": "last_name",
    "soyad": "last_name",
    "soyadi": "last_name",
    "birthdate": "birth_date",
    "dogumtarihi": "birth_date",
    "birthplace": "birth_place",
    "placeofbirth": "birth_place",
    "dogumyeri": "birth_place",
    "title": "title",
    "unvan": "title",
    "unit": "unit",
    "birim": "unit",
    "email": "email",
    "eposta": "email",
    "kurumsaleposta": "email",
    "kurumeposta": "email",
    "mobile": "mobile",
    "ceptelefonu": "mobile",
    "gsm": "mobile",
}
# Both capital Is and the dotless i fold to "i", so "TC KİMLİK NO", "TC KIMLIK NO"
# and "tc kimlik no" are one name.
_TURKISH_TO_ASCII = str.maketrans("İIıŞşĞğÇçÖöÜü", "iiissggccoouu")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")

_JSON_TYPES = {"application/json", "text/json"}
# Windows browsers with Excel installed send application/vnd.ms-excel for .csv.
_CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
_UNTYPED = {"", "application/octet-stream"}
_DELIMITERS = ";,"
_SNIFF_SAMPLE_CHARS = 64 * 1024


class RosterFileError(ValueError):
    """The uploaded file as a whole cannot be read; ``missing`` lists absent columns."""

    def __init__(self, code: str, message: str, missing: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.missing = list(missing)


@lru_cache(maxsize=256)
def _fold(name: str) -> str:
    return _NOT_ALNUM.sub("", name.translate(_TURKISH_TO_ASCII).lower())


def _canonical_column(name: str) -> str | None:
    return _COLUMN_ALIASES.get(_fold(name))


def _detect_format(content: bytes, content_type: str | None, filename: str | None) -> str:
    # The extension wins: browsers derive the content type from it anyway, and
    # some send a misleading one (see _CSV_TYPES).
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".json":
        return "json"
    if extension in (".csv", ".txt"):
        return "csv"
    mime = (content_type or "").split(";")[0].strip().lower()
    if not extension:
        if mime in _JSON_TYPES or mime.endswith("+json"):
            return "json"
        if mime in _CSV_TYPES:
            return "csv"
        if mime in _UNTYPED:
            start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            return "json" if start in (b"[", b"{") else "csv"
    raise RosterFileError(
        "unknown_format",
        "Upload the staff list as a CSV file (UTF-8) or as JSON; spreadsheets must be saved as CSV first.",
    )


def _decode(content: bytes) -> str:
    try:
        text = content.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise RosterFileError(
            "encoding",
            'The file is not UTF-8 text. In Excel choose "CSV UTF-8 (Comma delimited)".',
        ) from None
    if not text.strip():
        raise RosterFileError("empty", "The file is empty.")
    return text


def _check_columns(found: Iterable[str]) -> None:
    present = set(found)
    missing = [name for name in ROSTER_FIELDS if name not in present]
    if missing:
        raise RosterFileError(
            "missing_columns",
            "The staff list has no column for: " + ", ".join(missing) + ".",
            missing,
        )


def _cell_text(value: object, entry: int, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # A number typed into a spreadsheet or JSON (a TC Kimlik No, a phone).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RosterFileError("malformed", f"Entry {entry}: the value of {column!r} must be text or a whole number.")


def _limit_rows(records: Iterable[Record], max_rows: int) -> list[Record]:
    result: list[Record] = []
    for record in records:
        if len(result) == max_rows:
            raise RosterFileError("too_many_rows", f"The staff list may have at most {max_rows} rows.")
        result.append(record)
    if not result:
        raise RosterFileError("empty", "The staff list has no rows.")
    return result


# --- CSV ---------------------------------------------------------------------


def _delimiter(text: str) -> str:
    header = text.partition("\n")[0]
    sample = text[:_SNIFF_SAMPLE_CHARS]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    # A header naming eight columns must contain the real delimiter. This also
    # overrules the sniffer's liking for "," when every title holds a comma.
    if sniffed is not None and sniffed in header:
        return sniffed
    return max(_DELIMITERS, key=header.count)


def _header_columns(header: list[str]) -> dict[int, str]:
    """Position -> canonical name; unknown columns are left out."""
    columns: dict[int, str] = {}
    for position, name in enumerate(header):
        canonical = _canonical_column(name)
        if canonical is None:
            continue
        if canonical in columns.values():
            raise RosterFileError("malformed", f"Two columns hold the same information ({canonical}).")
        columns[position] = canonical
    return columns


def _csv_records(text: str) -> Iterator[Record]:
    # Only the delimiter is taken from the sniffer: its quote-character guess
    # can pick the apostrophe of a name such as O'Brien.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        columns = _header_columns(next(reader))
        _check_columns(columns.values())
        last_line = reader.line_num
        for cells in reader:
            # A quoted cell may span lines: a record starts after the previous one.
            first_line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and the ";;;;" rows spreadsheets leave
            yield (
                first_line,
                {name: cells[position] if position < len(cells) else "" for position, name in columns.items()},
            )
    except csv.Error as exc:
        raise RosterFileError("malformed", f"The CSV file is malformed near line {reader.line_num}: {exc}.") from None


# --- JSON --------------------------------------------------------------------


def _json_entries(text: str) -> list[object]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RosterFileError("malformed", f"The JSON is malformed: {exc.msg}.") from None
    if isinstance(document, Mapping):
        document = document.get("staff")
    if not isinstance(document, list):
        raise RosterFileError("malformed", 'The JSON must be a list of staff, or an object with a "staff" list.')
    return document


def _json_records(entries: list[object]) -> Iterator[Record]:
    if not entries:
        return  # reported as empty, not as missing every column
    seen_columns: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise RosterFileError("malformed", f"Entry {index} is not an object.")
        record = dict.fromkeys(ROSTER_FIELDS, "")
        for key, value in entry.items():
            canonical = _canonical_column(key)
            if canonical is not None:
                record[canonical] = _cell_text(value, index, key)
                seen_columns.add(canonical)
        yield index, record
    # Objects may leave out empty keys, so a column is missing only if no entry has it.
    _check_columns(seen_columns)


def read_roster_file(
    content: bytes,
    content_type: str | None,
    filename: str | None,
    max_rows: int = 20000,
) -> list[Record]:
    """Read a CSV or JSON staff list into ``(line, {canonical column: text})`` records.

    Lines are the CSV's physical line numbers (the header is line 1) or the
    1-based position in the JSON list. Raises ``RosterFileError``.
    """
    kind = _detect_format(content, content_type, filename)
    text = _decode(content)
    records = _json_records(_json_entries(text)) if kind == "json" else _csv_records(text)
    return _limit_rows(records, max_rows)
