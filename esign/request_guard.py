"""Hostile input stopped at the door, once for every service: an ASGI middleware in front of the
routes that refuses what no endpoint can store or parse safely, before any handler, database or
auth check sees it.

- a body larger than the service's limit: 413 (counted while reading, whatever Content-Length says);
- a NUL character in the path or a query parameter: PostgreSQL cannot store it in text;
- a JSON body that :func:`esign.safe_json.loads` refuses (not UTF-8, not JSON, too deep, NUL
  characters, lone surrogates, numbers outside 64 bits or not finite).

Each refusal is the same 422 problem+json the validation handler gives (``validation_failed``,
one entry in ``errors`` per offending field), so a client handles one shape. The body is read
once here and replayed to the app unchanged. Paths in ``raw_json_paths`` read their body
themselves (a signed webhook checks its signature first) and apply :mod:`esign.safe_json` then.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from esign import safe_json
from esign.problems import FieldProblem, Problem, scope_problem_response


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _invalid(errors: list[FieldProblem]) -> _Refused:
    return _Refused(
        Problem(422, "validation_failed", "The request is not valid", "See `errors` for each field.", errors)
    )


def _check_path_and_query(scope: Scope) -> None:
    fields = []
    if "\x00" in scope.get("path", ""):
        fields.append("path")
    query = scope.get("query_string", b"").decode("latin-1")
    fields += [
        name.replace("\x00", "") for name, value in parse_qsl(query, keep_blank_values=True) if "\x00" in name + value
    ]
    if fields:
        raise _invalid(
            [FieldProblem(field=f, code="unstorable_character", message=safe_json.UNSTORABLE_MESSAGE) for f in fields]
        )


def _check_json(body: bytes) -> None:
    try:
        safe_json.loads(body)
    except safe_json.UnsafeJson as exc:
        raise _invalid([FieldProblem(field=e.field, code=e.code, message=e.message) for e in exc.errors]) from None


def _is_json(content_type: str) -> bool:
    mime = content_type.partition(";")[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


class RequestGuard:
    """Pure ASGI (no BaseHTTPMiddleware), so the body is read once and handed on as it came."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, raw_json_paths: Collection[str] = ()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.raw_json_paths = frozenset(raw_json_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            _check_path_and_query(scope)
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                raise self._too_large()
            body, later = await self._read_body(receive)
            if body and _is_json(headers.get("content-type", "")) and scope["path"] not in self.raw_json_paths:
                _check_json(body)
        except _Refused as refused:
            await scope_problem_response(refused.problem, scope)(scope, receive, send)
            return
        await self.app(scope, self._replay(body, later, receive), send)

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
