"""Masks for personal data shown where the whole value is not needed (operator listings, logs)."""

from __future__ import annotations

import re


def mask_mobile(e164: str) -> str:
    """``+905321234567`` -> ``+90 5** *** ** 67``: operator hidden, last two digits shown."""
    national = e164.removeprefix("+90")
    if not re.fullmatch(r"[0-9]{10}", national):
        return "*" * len(e164)
    return f"+90 {national[0]}** *** ** {national[8:10]}"
