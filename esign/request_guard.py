"""Hostile input stopped at the door, once for every service: an ASGI middleware in front of the
routes that refuses what no endpoint can store or parse safely, before any handler, database or
auth check sees it.

- a body larger than the service's limit: 413 (counted while reading, whatever Content-Length says);
- a NUL character in the path or a query parameter: PostgreSQL cannot store it in text;
- a JSON body that is not UTF-8, not JSON, nested deeper than :data:`MAX_JSON_DEPTH`, or holding
  a NUL character, a lone surrogate, an integer outside 64 bits or a number that is not finite.

Each refusal is the same 422 problem+json the validation handler gives (``validation_failed``,
one entry in ``errors`` per offending field), so a client handles one shape. The body is read
once here and replayed to the app unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from esign.problems import PROBLEM_MEDIA_TYPE, FieldProblem, Problem

# Deep enough for every body the APIs take (a staff list is 3 levels), far below the interpreter's
# recursion limit that a 1,000-deep document reaches.
MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MAX_INT_DIGITS = 20  # refuse longer digit strings before converting them at all
_MAX_REPORTED = 20  # field errors listed per refusal
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")  # NUL and lone surrogates: not storable as UTF-8 text


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _invalid(errors: list[FieldProblem], detail: str = "See `errors` for each field.") -> _Refused:
    return _Refused(Problem(422, "validation_failed", "The request is not valid", detail, errors[:_MAX_REPORTED]))


def _unstorable(field: str) -> FieldProblem:
    return FieldProblem(
        field=field, code="unstorable_character", message="Text may not contain NUL characters or lone surrogates."
    )


class _NumberOutOfRange(ValueError):
    pass


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS or not INT64_MIN <= (value := int(text)) <= INT64_MAX:
        raise _NumberOutOfRange("an integer outside the 64-bit range")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfRange("a number too large to be finite")
    return value


def _parse_constant(text: str) -> float:
    raise _NumberOutOfRange(f"{text} is not JSON")


def _walk(document: Any) -> Iterator[tuple[str, Any, int]]:
    """Every (dotted path, value, depth) of a parsed document, iteratively (no recursion)."""
    stack: list[tuple[str, Any, int]] = [("", document, 1)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, key, depth  # the key itself is text that may be stored
                stack.append((child, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item, depth + 1) for i, item in enumerate(value))


def check_json_body(body: bytes) -> None:
    """Raises :class:`_Refused` unless ``body`` is UTF-8 JSON that every endpoint can handle."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid([FieldProblem(field="body", code="utf8_invalid", message="The body must be UTF-8.")]) from None
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        document = None
        too_deep = True
    except _NumberOutOfRange as exc:
        raise _invalid(
            [FieldProblem(field="body", code="number_out_of_range", message=f"The body holds {exc}.")]
        ) from None
    except ValueError as exc:  # JSONDecodeError, and int()'s own digit limit
        raise _invalid(
            [FieldProblem(field="body", code="json_invalid", message=f"The body is not JSON: {exc}.")]
        ) from None
    else:
        too_deep = False
    errors: list[FieldProblem] = []
    if not too_deep:
        for path, value, depth in _walk(document):
            if depth > MAX_JSON_DEPTH:
                too_deep = True
                break
            if isinstance(value, str) and _UNSTORABLE.search(value):
                errors.append(_unstorable(path or "body"))
    if too_deep:
        raise _invalid(
            [FieldProblem(field="body", code="too_deep", message=f"JSON may be nested at most {MAX_JSON_DEPTH} deep.")]
        )
    if errors:
        raise _invalid(errors)


def check_path_and_query(scope: Scope) -> None:
    errors = []
    if "\x00" in scope.get("path", ""):
        errors.append(_unstorable("path"))
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            errors.append(_unstorable(name.replace("\x00", "")))
    if errors:
        raise _invalid(errors)


def _is_json(content_type: str) -> bool:
    mime = content_type.partition(";")[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


class RequestGuard:
    """Pure ASGI (no BaseHTTPMiddleware), so the body is read once and handed on as it came."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            check_path_and_query(scope)
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                raise self._too_large()
            body, more = await self._read_body(receive)
            if body and _is_json(headers.get("content-type", "")):
                check_json_body(body)
        except _Refused as refused:
            problem = refused.problem
            response = JSONResponse(
                problem.body(instance=scope.get("path")),
                status_code=problem.status,
                media_type=PROBLEM_MEDIA_TYPE,
                headers=problem.headers,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, self._replay(body, more, receive), send)

    def _too_large(self) -> _Refused:
        return _Refused(
            Problem(
                413, "payload_too_large", "Payload too large", f"A request body is at most {self.max_body_bytes} bytes."
            )
        )

    async def _read_body(self, receive: Receive) -> tuple[bytes, list[Message]]:
        chunks, size, later = [], 0, []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                later.append(message)  # e.g. a disconnect: handed on after the body
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), later

    @staticmethod
    def _replay(body: bytes, later: list[Message], receive: Receive) -> Receive:
        pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *later]

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return replay
