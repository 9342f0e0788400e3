"""Checks every service's OpenAPI document must pass."""

from __future__ import annotations

from typing import Any


def operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}


def undocumented(doc: dict[str, Any], without_problems: set[str] = frozenset()) -> list[str]:
    """Operations with no summary, or (outside ``without_problems``: health, metrics, static pages)
    with no problem+json response documented."""
    missing = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if not op.get("summary"):
                missing.append(f"{method} {path}: no summary")
            if path in without_problems:
                continue
            if not any(
                status.startswith("4") and "application/problem+json" in response.get("content", {})
                for status, response in op["responses"].items()
            ):
                missing.append(f"{method} {path}: no problem response")
    return missing
