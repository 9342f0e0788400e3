"""Query and body types every service's API shares, with the bounds the database can honour: paging
that stays inside PostgreSQL's 64-bit ``OFFSET``/``LIMIT``, and instants that are RFC 3339 text
with a time zone (pydantic alone would take ``0.5`` as a Unix time)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from esign.instant import Instant

__all__ = ["MAX_OFFSET", "MAX_PAGE_SIZE", "Instant", "Limit", "Offset"]

MAX_PAGE_SIZE = 500
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Items to skip, 0 to {MAX_OFFSET:,}.")]
