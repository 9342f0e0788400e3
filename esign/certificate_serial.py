"""A certificate's serial number as operators record it at production (hexadecimal bytes, often
separated by colons) and as a certificate carries it (an integer). The renewal handlers compare
the two; `esign renewal-card` and the tests write it the operators' way."""

from __future__ import annotations

import re


def serial_from_record(recorded: str) -> int | None:
    """The serial as the operator typed it at production (``7F:01:AA``, ``7f01aa``, ``7F 01 AA``)
    read as the hexadecimal integer a certificate carries; None if it is not hexadecimal."""
    digits = re.sub(r"[\s:.-]", "", recorded)
    if not digits or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
        return None
    return int(digits, 16)


def serial_text(serial: int) -> str:
    """An integer serial the way operators write it: upper-case hex bytes separated by colons."""
    raw = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    return ":".join(f"{b:02X}" for b in raw)
