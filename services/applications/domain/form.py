"""The NES application form an applicant fills in before printing and signing it.

Identity fields (TC Kimlik No, names, birth place and date) come from the
population registry and are never edited here. Everything else is a draft that
is patched field by field and must be complete before it can be printed.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from services.applications.domain.contact import (
    LATIN_LETTERS,
    TITLE_MAX_LEN,
    UNIT_MAX_LEN,
    FieldInvalid,
    parse_email,
    parse_text,
    parse_turkish_mobile,
)

REGISTRY_NUMBER_MAX_LEN = 30
ADDRESS_LINE_MAX_LEN = 120
PLACE_NAME_MAX_LEN = 60
PRIOR_CERTIFICATE_NOTE_MAX_LEN = 500
SECURITY_WORD_MIN_LEN = 4
SECURITY_WORD_MAX_LEN = 32
SECURITY_WORD_PATTERN = rf"[{LATIN_LETTERS}0-9]{{{SECURITY_WORD_MIN_LEN},{SECURITY_WORD_MAX_LEN}}}"
_SECURITY_WORD = re.compile(SECURITY_WORD_PATTERN)

IDENTITY_FIELDS = frozenset({"tckn", "first_name", "last_name", "birth_date", "birth_place"})
# Kept by the service itself once it has stored the security word's hash.
SERVICE_FIELDS = frozenset({"security_word_set"})


class CardReaderType(enum.StrEnum):
    ACR38T = "acr38t"
    ACR39U = "acr39u"
    NONE = "none"  # the applicant already has a reader


class PriorCertificateReason(enum.StrEnum):
    NONE = "none"
    RENEWAL = "renewal"
    LOST_OR_STOLEN = "lost_or_stolen"
    OTHER = "other"


class ValidityYears(enum.IntEnum):
    THREE = 3
    FIVE = 5


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path, e.g. "delivery_address.postal_code"
    code: str
    message: str


@dataclass
class DeliveryAddress:
    line1: str
    district: str
    city: str
    postal_code: str  # 5 digits
    line2: str | None = None


@dataclass
class FormDraft:
    registry_number: str | None = None
    unit: str | None = None
    title: str | None = None
    institutional_email: str | None = None
    mobile: str | None = None  # E.164
    delivery_address: DeliveryAddress | None = None
    card_reader_type: CardReaderType | None = None
    validity_years: ValidityYears | None = None
    prior_certificate_reason: PriorCertificateReason | None = None
    prior_certificate_note: str | None = None
    publish_consent: bool | None = None
    # The word itself is never kept here: the service stores only its hash.
    security_word_set: bool = False


def validate_security_word(raw: str) -> str:
    """The word used later to get the PIN or unblock the card: 4-32 letters or digits."""
    word = unicodedata.normalize("NFC", raw.strip())
    if not _SECURITY_WORD.fullmatch(word):
        raise FieldInvalid(
            "security_word_invalid",
            f"The security word must be {SECURITY_WORD_MIN_LEN} to {SECURITY_WORD_MAX_LEN} "
            "letters or digits, without spaces or punctuation.",
        )
    return word


# --- parsing patch values ----------------------------------------------------


def _from_text(parse: Callable[[str], object]) -> Callable[[object], object]:
    """Patch values come from JSON: a number sent for a text field is a type error."""

    def parse_value(value: object) -> object:
        if not isinstance(value, str):
            raise FieldInvalid("type_invalid", "Expected text.")
        return parse(value)

    return parse_value


def _bounded_text(max_len: int) -> Callable[[object], object]:
    return _from_text(partial(parse_text, max_len=max_len))


def _choice(enum_type: type[enum.Enum]) -> Callable[[object], object]:
    def parse(value: object) -> object:
        try:
            return enum_type(value)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in enum_type)
            raise FieldInvalid("choice_invalid", f"Choose one of: {allowed}.") from None

    return parse


def _consent(value: object) -> bool:
    if not isinstance(value, bool):
        raise FieldInvalid("type_invalid", "Expected true or false.")
    return value


_POSTAL_CODE = re.compile(r"[0-9]{5}")


def _postal_code(raw: str) -> str:
    code = raw.strip()
    if not _POSTAL_CODE.fullmatch(code):
        raise FieldInvalid("postal_code_invalid", "A postal code has 5 digits.")
    return code


_FIELD_PARSERS: dict[str, Callable[[object], object]] = {
    "registry_number": _bounded_text(REGISTRY_NUMBER_MAX_LEN),
    "unit": _bounded_text(UNIT_MAX_LEN),
    "title": _bounded_text(TITLE_MAX_LEN),
    "institutional_email": _from_text(parse_email),
    "mobile": _from_text(parse_turkish_mobile),
    "card_reader_type": _choice(CardReaderType),
    "validity_years": _choice(ValidityYears),
    "prior_certificate_reason": _choice(PriorCertificateReason),
    "prior_certificate_note": _bounded_text(PRIOR_CERTIFICATE_NOTE_MAX_LEN),
    "publish_consent": _consent,
}
_ADDRESS_PARSERS: dict[str, Callable[[object], object]] = {
    "line1": _bounded_text(ADDRESS_LINE_MAX_LEN),
    "line2": _bounded_text(ADDRESS_LINE_MAX_LEN),
    "district": _bounded_text(PLACE_NAME_MAX_LEN),
    "city": _bounded_text(PLACE_NAME_MAX_LEN),
    "postal_code": _from_text(_postal_code),
}
_OPTIONAL_ADDRESS_PARTS = frozenset({"line2"})
_CLEARABLE_FIELDS = _FIELD_PARSERS.keys() | {"delivery_address"}


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _required_error(path: str) -> FieldError:
    return FieldError(path, "required", "This field is required.")


def _unknown_field_error(path: str) -> FieldError:
    return FieldError(path, "unknown_field", "The form has no such field.")


def _parse_address(value: object) -> tuple[DeliveryAddress | None, list[FieldError]]:
    """The address is replaced as a whole, so a stored one is always complete."""
    if not isinstance(value, Mapping):
        message = "Expected an address object."
        return None, [FieldError("delivery_address", "type_invalid", message)]
    parts: dict[str, Any] = {}  # typed per part by its parser
    errors = [_unknown_field_error(f"delivery_address.{key}") for key in sorted(value.keys() - _ADDRESS_PARSERS.keys())]
    for part, parse in _ADDRESS_PARSERS.items():
        raw = value.get(part)
        if _is_blank(raw):
            if part not in _OPTIONAL_ADDRESS_PARTS:
                errors.append(_required_error(f"delivery_address.{part}"))
            continue
        try:
            parts[part] = parse(raw)
        except FieldInvalid as exc:
            errors.append(FieldError(f"delivery_address.{part}", exc.code, exc.message))
    if errors:
        return None, errors
    return DeliveryAddress(**parts), []


def _patch_field(name: str, value: object) -> tuple[object, list[FieldError]]:
    if name in IDENTITY_FIELDS:
        message = "Identity details come from the population registry and cannot be edited."
        return None, [FieldError(name, "read_only", message)]
    if name in SERVICE_FIELDS:
        return None, [FieldError(name, "read_only", "This field is set by the service.")]
    if name == "delivery_address":
        return _parse_address(value)
    parse = _FIELD_PARSERS.get(name)
    if parse is None:
        return None, [_unknown_field_error(name)]
    try:
        return parse(value), []
    except FieldInvalid as exc:
        return None, [FieldError(name, exc.code, exc.message)]


def apply_patch(draft: FormDraft, patch: Mapping[str, object]) -> tuple[FormDraft, list[FieldError]]:
    """Apply a partial update; ``None`` or blank text clears a field.

    Valid fields are applied even when others fail, so the returned draft holds
    every good value; the caller decides whether to save it when there are errors.
    The given draft is not modified.
    """
    changes: dict[str, Any] = {}  # typed per field by its parser
    errors: list[FieldError] = []
    for name, value in patch.items():
        if name in _CLEARABLE_FIELDS and _is_blank(value):
            changes[name] = None
            continue
        parsed, field_errors = _patch_field(name, value)
        if field_errors:
            errors.extend(field_errors)
        else:
            changes[name] = parsed
    return dataclasses.replace(draft, **changes), errors


_REQUIRED_FIELDS = (
    "registry_number",
    "unit",
    "title",
    "institutional_email",
    "mobile",
    "delivery_address",
    "card_reader_type",
    "validity_years",
    "prior_certificate_reason",
)


def completeness_errors(draft: FormDraft) -> list[FieldError]:
    """Everything still missing before the form can be printed and signed."""
    errors = [_required_error(name) for name in _REQUIRED_FIELDS if getattr(draft, name) is None]
    note_needed = draft.prior_certificate_reason is PriorCertificateReason.OTHER
    if note_needed and not draft.prior_certificate_note:
        errors.append(_required_error("prior_certificate_note"))
    if not draft.security_word_set:
        errors.append(_required_error("security_word"))
    if draft.publish_consent is not True:
        errors.append(
            FieldError(
                "publish_consent",
                "publish_consent_required",
                'Choose "Sertifikam İnternetten yayınlansın" (publish my certificate): '
                "documents signed with the certificate can only be verified against the "
                "certification centre's (Kamu SM) servers if the certificate is published.",
            )
        )
    return errors
