"""JSON that every service can store: UTF-8, nested at most :data:`MAX_DEPTH` deep, integers within
64 bits, finite numbers, and no text (value or key) holding a NUL character or a lone surrogate,
which PostgreSQL cannot store. Pure functions, no web framework: the request guard applies them to
every JSON body, and a handler that reads a raw body itself (the signed carrier webhook, after its
signature check) applies them the same way."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Deep enough for every body the APIs take (a staff list is 3 levels), far below the interpreter's
# recursion limit that a 1,000-deep document reaches.
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MAX_INT_DIGITS = 20  # longer digit strings are refused before they are converted at all
_MAX_REPORTED = 20  # field errors listed per refusal
UNSTORABLE_TEXT = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text may not contain NUL characters or lone surrogates."


@dataclass(frozen=True)
class JsonFieldError:
    field: str  # dotted path into the document, or "body" for the document as a whole
    code: str
    message: str


class UnsafeJson(ValueError):
    def __init__(self, errors: list[JsonFieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors[:_MAX_REPORTED]


def _whole(code: str, message: str) -> UnsafeJson:
    return UnsafeJson([JsonFieldError("body", code, message)])


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
    raise _NumberOutOfRange(f"{text}, which is not JSON")


def _walk(document: Any) -> Iterator[tuple[str, Any, int]]:
    """Every (dotted path, value, depth) of a parsed document, keys included, without recursion."""
    stack: list[tuple[str, Any, int]] = [("", document, 1)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, key, depth
                stack.append((child, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item, depth + 1) for i, item in enumerate(value))


def loads(body: bytes) -> Any:
    """The parsed document, or :class:`UnsafeJson` saying why not, field by field."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _whole("utf8_invalid", "The body must be UTF-8.") from None
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise _whole("too_deep", f"JSON may be nested at most {MAX_DEPTH} deep.") from None
    except _NumberOutOfRange as exc:
        raise _whole("number_out_of_range", f"The body holds {exc}.") from None
    except ValueError as exc:  # JSONDecodeError, and int()'s own digit limit
        raise _whole("json_invalid", f"The body is not JSON: {exc}.") from None
    errors: list[JsonFieldError] = []
    for path, value, depth in _walk(document):
        if depth > MAX_DEPTH:
            raise _whole("too_deep", f"JSON may be nested at most {MAX_DEPTH} deep.")
        if isinstance(value, str) and UNSTORABLE_TEXT.search(value):
            errors.append(JsonFieldError(path or "body", "unstorable_character", UNSTORABLE_MESSAGE))
    if errors:
        raise UnsafeJson(errors)
    return document
