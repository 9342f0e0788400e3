"""Parsing and masking of the personal fields people type into forms and lists.

Every parser takes the raw text, returns the canonical value, and raises
``FieldInvalid`` with a stable ``code`` and an English ``message`` that never
repeats the input (it may be personal data that must not reach logs).
A blank input always gives the code ``required``.
"""

from __future__ import annotations

import functools
import importlib
import re
import unicodedata
from datetime import date

from email_validator import EmailNotValidError, validate_email
from email_validator import syntax as email_syntax

# Column limits shared by the form and the staff list.
TITLE_MAX_LEN = 100
UNIT_MAX_LEN = 200
NAME_MAX_LEN = 100

MIN_APPLICANT_AGE = 16
MAX_APPLICANT_AGE = 100


class FieldInvalid(ValueError):
    """A field value that cannot be accepted."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _required(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise FieldInvalid("required", "This field is required.")
    return text


def _clean_text(raw: str) -> str:
    """Required text, NFC-normalised (so "ş" typed as s + combining cedilla is one
    letter), with runs of whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", _required(raw)).split())


# Letters of the Latin script, for a regex character class: ASCII, Latin-1
# without × and ÷, Latin Extended-A and -B (where İ ı Ş ş Ğ ğ are) and Latin
# Extended Additional. Regexes rather than per-character Unicode look-ups keep
# a 10,000-row staff list fast.
LATIN_LETTERS = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"


# --- mobile phone ------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s().-]")
# Optional country or trunk prefix, then the 10-digit national number, which
# for a mobile line starts with 5.
_TURKISH_MOBILE = re.compile(r"(?:\+90|0090|90|0)?(5[0-9]{9})")


def parse_turkish_mobile(raw: str) -> str:
    """Return a Turkish mobile number as E.164 (``+905321234567``)."""
    digits = _PHONE_SEPARATORS.sub("", _required(raw))
    match = _TURKISH_MOBILE.fullmatch(digits)
    if match is None:
        raise FieldInvalid(
            "mobile_invalid",
            "Enter a Turkish mobile number, for example 0532 123 45 67.",
        )
    return "+90" + match.group(1)


def format_mobile(e164: str) -> str:
    """``+905321234567`` -> ``+90 532 123 45 67``, the way Turkish numbers are written."""
    national = e164.removeprefix("+90")
    return f"+90 {national[0:3]} {national[3:6]} {national[6:8]} {national[8:10]}"


# --- e-mail ------------------------------------------------------------------


def _remember_domain_verdicts() -> None:
    """A staff list's addresses nearly all share the institution's domain, and email-validator
    checks the domain of every address from scratch (UTS-46, character by character): two thirds
    of an address's validation, a sixth of a 10,000-row import. That check is a pure function of
    the domain and two flags, which ``validate_email`` looks up in its module each call: its valid
    answers are remembered there (an invalid domain raises, and is checked again every time).
    The library has no setting for it. tests/services/applications/domain/test_contact.py checks
    that ``validate_email`` still goes through the remembered check and answers as before."""
    module = importlib.import_module("email_validator.validate_email")
    module.validate_email_domain_name = _checked_domain  # type: ignore[attr-defined]


_checked_domain = functools.lru_cache(maxsize=256)(email_syntax.validate_email_domain_name)
_remember_domain_verdicts()


def parse_email(raw: str) -> str:
    """Check e-mail syntax (no DNS look-up) and return the normalised address."""
    try:
        result = validate_email(_required(raw), check_deliverability=False)
    except EmailNotValidError:
        raise FieldInvalid("email_invalid", "Enter a valid e-mail address.") from None
    return result.normalized


# --- birth date --------------------------------------------------------------

_ISO_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
# The Turkish way of writing dates; day and month are often typed without the 0.
_TURKISH_DATE = re.compile(r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{4})")


def _age_on(birth: date, today: date) -> int:
    had_birthday = (today.month, today.day) >= (birth.month, birth.day)
    return today.year - birth.year - (0 if had_birthday else 1)


def _calendar_date(text: str) -> date | None:
    match = _ISO_DATE.fullmatch(text) or _TURKISH_DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:  # 31.02.1985 and the like
        return None


def parse_birth_date(raw: str, today: date) -> date:
    """Accept ``YYYY-MM-DD`` or ``DD.MM.YYYY``; the applicant must be 16 to 100 years old."""
    birth = _calendar_date(_required(raw))
    if birth is None:
        raise FieldInvalid("date_format", "Enter a real date as DD.MM.YYYY or YYYY-MM-DD.")
    if birth > today or not MIN_APPLICANT_AGE <= _age_on(birth, today) <= MAX_APPLICANT_AGE:
        raise FieldInvalid(
            "birth_date_range",
            f"The birth date must make the applicant between {MIN_APPLICANT_AGE} and {MAX_APPLICANT_AGE} years old.",
        )
    return birth


def mask_birth_date(d: date) -> str:
    """Only the year is shown: ``**.**.1985``."""
    return f"**.**.{d.year:04d}"


# --- names and free text -----------------------------------------------------

_NAME_CHARACTERS = re.compile(rf"[{LATIN_LETTERS} '’.-]+")
_LATIN_LETTER = re.compile(rf"[{LATIN_LETTERS}]")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Refused at input rather than escaped on export: titles and units go out in e-mails, PDFs and
# lists that the CA and institutions open in their own spreadsheets, where no escaping of ours
# reaches; no real title or unit starts with these.
_FORMULA_STARTS = ("=", "+", "-", "@")


def parse_person_name(raw: str, field: str) -> str:
    """A first or last name: Latin-script letters (Turkish included), spaces, ' - and .

    Letters are kept as typed: no case change, so İ and ı survive.
    """
    name = _clean_text(raw)
    label = field.replace("_", " ")
    if len(name) > NAME_MAX_LEN:
        raise FieldInvalid("name_invalid", f"The {label} must be at most {NAME_MAX_LEN} characters.")
    if not _NAME_CHARACTERS.fullmatch(name) or not _LATIN_LETTER.search(name):
        raise FieldInvalid(
            "name_invalid",
            f"The {label} may contain only letters, spaces, apostrophes, hyphens and dots.",
        )
    return name


def parse_text(raw: str, max_len: int) -> str:
    """Short free text such as a title or a unit: trimmed, inner spaces collapsed."""
    text = _clean_text(raw)
    if len(text) > max_len:
        raise FieldInvalid("text_too_long", f"Use at most {max_len} characters.")
    if _CONTROL_CHARACTER.search(text):
        raise FieldInvalid("text_invalid", "The text contains control characters.")
    if text.startswith(_FORMULA_STARTS):
        raise FieldInvalid(
            "text_formula", "The text may not start with =, +, - or @ (a spreadsheet would run it as a formula)."
        )
    return text
