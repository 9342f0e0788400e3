"""TC Kimlik No, the Turkish national identity number: validation and masking.

The number is high-risk personal data (KVKK), so the value object only ever
shows itself masked; code that really needs the digits reads ``.value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
# How much of a number may be shown: the first 3 and the last 2 digits.
_SHOWN_HEAD = 3
_SHOWN_TAIL = 2


class InvalidTCKimlikNo(ValueError):
    """A string that is not a usable TC Kimlik No.

    ``code`` is stable for clients; ``message`` never repeats the number.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_digits(first_nine: str) -> str:
    """The 10th and 11th digits that the first nine digits call for (also used to make test data)."""
    digits = [int(c) for c in first_nine]
    odd_sum = sum(digits[0::2])  # d1, d3, d5, d7, d9
    even_sum = sum(digits[1::2])  # d2, d4, d6, d8
    # Python's % already gives the non-negative remainder when 7*odd < even,
    # where C-like languages would give a negative digit.
    d10 = (odd_sum * 7 - even_sum) % 10
    # A remainder, so 0 and never 10.
    d11 = (sum(digits) + d10) % 10
    return f"{d10}{d11}"


def _validate(value: str) -> None:
    if not _ELEVEN_DIGITS.fullmatch(value):
        raise InvalidTCKimlikNo("tckn_format", "A TC Kimlik No has exactly 11 digits.")
    if value[0] == "0":
        raise InvalidTCKimlikNo("tckn_leading_zero", "A TC Kimlik No cannot start with 0.")
    # Checked before the checksum: for 11111111111 "this is a placeholder"
    # tells the user more than "the check digits are wrong".
    if len(set(value[:9])) == 1:
        raise InvalidTCKimlikNo(
            "tckn_placeholder",
            "This looks like a placeholder number, not a real TC Kimlik No.",
        )
    if value[9:] != check_digits(value[:9]):
        raise InvalidTCKimlikNo(
            "tckn_checksum",
            "This is not a valid TC Kimlik No: its check digits do not match. Please check for a typing mistake.",
        )


def mask_tckn(raw: str) -> str:
    """Mask any string as a TC Kimlik No would be masked (``100******46``).

    Never raises, so it is safe in log and error paths whatever they hold.
    Strings too short to hide enough of are masked completely.
    """
    text = str(raw).strip()
    hidden = len(text) - _SHOWN_HEAD - _SHOWN_TAIL
    if hidden < _SHOWN_HEAD + _SHOWN_TAIL:
        return "*" * len(text)
    return text[:_SHOWN_HEAD] + "*" * hidden + text[-_SHOWN_TAIL:]


@dataclass(frozen=True, repr=False)
class TCKimlikNo:
    """A valid TC Kimlik No. ``str()`` and ``repr()`` are masked on purpose."""

    value: str

    def __post_init__(self) -> None:
        _validate(self.value)

    @classmethod
    def parse(cls, raw: str) -> TCKimlikNo:
        """Parse user input; only surrounding spaces are forgiven."""
        return cls(raw.strip())

    def masked(self) -> str:
        return mask_tckn(self.value)

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"TCKimlikNo({self.masked()!r})"
