"""How many SMS segments a text takes (3GPP TS 23.038 / 23.040).

- GSM 7-bit default alphabet: 160 septets in one SMS, 153 per part of a long one (the
  concatenation header takes 6 octets). Characters of the extension table (``€ [ ] { } ^ ~ \\ |``)
  cost two septets (escape + character).
- Turkish national single-shift table (23.038 A.2.1): the default alphabet plus ``Ğ ğ İ ı Ş ş ç``
  (and the extension characters) through the shift, two septets each. The 3-octet "national
  single shift" header leaves 155 septets in one SMS and 149 per part.
- Anything else: UCS-2, 70 characters in one SMS, 67 per part (UTF-16 code units).

A two-septet character is never split across parts, so parts are filled greedily, as phones do.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

# 23.038 6.2.1, the default alphabet (0x1B, the escape to the extension table, left out).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("\f^{}\\[~]|€")
# 23.038 A.2.1, Turkish National Single Shift Table.
TURKISH_SINGLE_SHIFT = set("\f^{}\\[~]|€ĞİŞçğış")


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"
    GSM7_TURKISH = "gsm7-turkish"
    UCS2 = "ucs2"


# (single message, per part of a concatenated message), in the encoding's units.
LIMITS = {Encoding.GSM7: (160, 153), Encoding.GSM7_TURKISH: (155, 149), Encoding.UCS2: (70, 67)}


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for the GSM encodings, UTF-16 code units for UCS-2
    segments: int

    @property
    def single_limit(self) -> int:
        return LIMITS[self.encoding][0]


def _costs(text: str, shift: set[str]) -> list[int] | None:
    costs = []
    for ch in text:
        if ch in GSM_BASIC:
            costs.append(1)
        elif ch in shift:
            costs.append(2)
        else:
            return None
    return costs


def _parts(costs: list[int], per_part: int) -> int:
    parts, filled = 1, 0
    for cost in costs:
        if filled + cost > per_part:
            parts, filled = parts + 1, 0
        filled += cost
    return parts


def _cheapest_encoding(text: str) -> tuple[Encoding, list[int]]:
    """The first encoding that can carry ``text`` (as phones choose), and each character's cost."""
    for encoding, shift in ((Encoding.GSM7, GSM_EXTENSION), (Encoding.GSM7_TURKISH, TURKISH_SINGLE_SHIFT)):
        costs = _costs(text, shift)
        if costs is not None:
            return encoding, costs
    return Encoding.UCS2, [len(ch.encode("utf-16-le")) // 2 for ch in text]


def count_segments(text: str) -> SegmentCount:
    encoding, costs = _cheapest_encoding(text)
    single, per_part = LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        return SegmentCount(encoding, units, 1)
    parts = _parts(costs, per_part) if encoding is not Encoding.UCS2 else math.ceil(units / per_part)
    return SegmentCount(encoding, units, parts)


# Turkish spells some loanwords with a circumflex (Kâmil, hâlâ); the plain letter is an accepted
# spelling and keeps a message in the Turkish table instead of tripling its cost in UCS-2.
_SMS_FOLDS = str.maketrans(
    {
        "â": "a",
        "Â": "A",
        "î": "i",
        "Î": "İ",
        "û": "u",
        "Û": "U",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": "...",
    }
)


def fold_for_sms(text: str) -> str:
    """Replaces characters that would force UCS-2 by their plain equivalents; Turkish letters stay."""
    return text.translate(_SMS_FOLDS)
