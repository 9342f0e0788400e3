"""Instants taken from requests: RFC 3339 text with a time zone (pydantic alone would take ``0.5``
as a Unix time), and only those that exist in UTC (``0001-01-01T00:00:00+14:00`` does not, and
fails deep in the database driver). Pydantic only, so handlers' own models use it too."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value  # built in code, not parsed from a request
    if not isinstance(value, str) or not _RFC3339.fullmatch(value.strip()):
        raise ValueError("give an RFC 3339 date-time with a time zone, e.g. 2026-01-01T00:00:00+03:00")
    return value


def representable_in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone (e.g. 2026-01-01T00:00:00+03:00)")
    try:
        value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("the date-time is out of range") from None
    return value


# An aware instant from RFC 3339 text (body field or query parameter).
Instant = Annotated[
    datetime,
    BeforeValidator(_rfc3339_text),
    AfterValidator(representable_in_utc),
    Field(json_schema_extra={"format": "date-time"}),
]
