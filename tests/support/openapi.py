"""Checks every service's OpenAPI document must pass."""

from __future__ import annotations

from typing import Any

# Routes every service gets from the kernel (esign.service): health and metrics need no token, the
# dead letters are the operator's. Each service's role matrix starts from these.
KERNEL_PUBLIC = {("GET", "/livez"), ("GET", "/readyz"), ("GET", "/metrics")}


def kernel_matrix(service: str) -> dict[tuple[str, str], set[str]]:
    """The kernel's operator routes of ``service``: its dead letters, under its own name."""
    return {
        ("GET", f"/v1/dead-letters/{service}"): {"operator"},
        ("POST", f"/v1/dead-letters/{service}/{{dead_letter_id}}/replay"): {"operator"},
    }


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
