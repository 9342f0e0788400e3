"""The language of an API's problem answers: Turkish by default, English when the request prefers it
(``Accept-Language``), as the pages already are.

Handlers, domains and the kernel write their refusals in English, with a stable ``code`` (and
field codes). Turkish comes from catalogues keyed by those codes, applied when the answer is
rendered (:func:`esign.problems.problem_response`, the request guard): this module's shared texts
(authentication, validation, paging, the kernel's refusals, pydantic's field errors) plus each
service's own (``ServiceDefinition.problem_texts``). A template may name the problem's extra
members (``{retry_after_seconds}``) or, for field errors, pydantic's context (``{max_length}``);
a code with no Turkish text keeps its English text, so nothing is ever blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SUPPORTED = ("tr", "en")
DEFAULT = "tr"


def negotiate(accept_language: str | None) -> str:
    """The supported language the client ranks highest (RFC 9110 12.5.4, q-values honoured;
    ``en-GB`` counts as ``en``); Turkish when it names none of ours or sends nothing."""
    best, best_q = DEFAULT, 0.0
    for item in (accept_language or "").split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if primary == "*":
            primary = DEFAULT
        # Ties go to the first named; q=0 means "not this one".
        if primary in SUPPORTED and q > best_q:
            best, best_q = primary, q
    return best


@dataclass(frozen=True)
class ProblemTexts:
    """Turkish texts by code: a problem's ``title`` and ``detail``, a field error's ``message``."""

    titles: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)

    def with_(self, other: ProblemTexts | None) -> ProblemTexts:
        if other is None:
            return self
        return ProblemTexts(
            {**self.titles, **other.titles}, {**self.details, **other.details}, {**self.fields, **other.fields}
        )


def fill(template: str | None, values: Mapping[str, Any], fallback: str | None) -> str | None:
    """The template with ``values`` filled in, or ``fallback`` when it names something absent."""
    if template is None:
        return fallback
    try:
        return template.format_map({k: v for k, v in values.items() if isinstance(v, str | int | float)})
    except (KeyError, IndexError, ValueError):
        return fallback


SHARED_TURKISH = ProblemTexts(
    titles={
        "validation_failed": "İstek geçerli değil",
        "not_found": "Bulunamadı",
        "unauthenticated": "Kimlik doğrulaması gerekli",
        "forbidden": "Bu işlem için yetkiniz yok",
        "method_not_allowed": "Bu yöntem burada kullanılamaz",
        "payload_too_large": "İstek gövdesi çok büyük",
        "rate_limited": "Çok fazla istek",
        "internal_error": "Sunucu hatası",
        "conflict": "Şu anki durumla çelişiyor",
    },
    details={
        "validation_failed": "Her alanın sorunu `errors` içinde.",
        "not_found": "Bu kimlikle size görünen bir kayıt yok.",
        "unauthenticated": "Geçerli bir erişim belirteci (Bearer) gönderin.",
        "forbidden": "Rolünüz bu işleme izin vermiyor.",
        "rate_limited": "Çok fazla istek; {retry_after_seconds} saniye sonra yeniden deneyin.",
        "internal_error": "Bizim tarafımızda bir sorun oluştu; kaydedildi.",
    },
    fields={
        # pydantic's error types (FastAPI's validation) ...
        "missing": "Bu alan zorunludur.",
        "extra_forbidden": "Bu alan beklenmiyor.",
        "string_type": "Metin olmalıdır.",
        "string_too_short": "En az {min_length} karakter olmalıdır.",
        "string_too_long": "En çok {max_length} karakter olabilir.",
        "string_pattern_mismatch": "Biçimi geçerli değil.",
        "int_type": "Tam sayı olmalıdır.",
        "int_parsing": "Tam sayı olmalıdır.",
        "int_from_float": "Tam sayı olmalıdır.",
        "float_type": "Sayı olmalıdır.",
        "float_parsing": "Sayı olmalıdır.",
        "bool_type": "true ya da false olmalıdır.",
        "bool_parsing": "true ya da false olmalıdır.",
        "greater_than": "{gt} değerinden büyük olmalıdır.",
        "greater_than_equal": "En az {ge} olmalıdır.",
        "less_than": "{lt} değerinden küçük olmalıdır.",
        "less_than_equal": "En çok {le} olabilir.",
        "enum": "Şunlardan biri olmalıdır: {expected}.",
        "literal_error": "Şunlardan biri olmalıdır: {expected}.",
        "uuid_type": "Geçerli bir kimlik (UUID) olmalıdır.",
        "uuid_parsing": "Geçerli bir kimlik (UUID) olmalıdır.",
        "date_type": "Geçerli bir tarih (YYYY-AA-GG) olmalıdır.",
        "date_parsing": "Geçerli bir tarih (YYYY-AA-GG) olmalıdır.",
        "date_from_datetime_parsing": "Geçerli bir tarih (YYYY-AA-GG) olmalıdır.",
        "datetime_type": "Saat dilimiyle bir RFC 3339 zamanı olmalıdır.",
        "datetime_parsing": "Saat dilimiyle bir RFC 3339 zamanı olmalıdır.",
        "datetime_from_date_parsing": "Saat dilimiyle bir RFC 3339 zamanı olmalıdır.",
        "timezone_aware": "Saat dilimi belirtilmelidir.",
        "dict_type": "Bir JSON nesnesi olmalıdır.",
        "model_attributes_type": "Bir JSON nesnesi olmalıdır.",
        "list_type": "Bir liste olmalıdır.",
        "too_short": "En az {min_length} öğe olmalıdır.",
        "too_long": "En çok {max_length} öğe olabilir.",
        "json_invalid": "Gövde geçerli JSON değil.",
        # ... and the request guard's (esign.request_guard, esign.safe_json).
        "unstorable_character": "Saklanamayan bir karakter (NUL) içeriyor.",
        "too_deep": "JSON çok derin iç içe.",
        "number_out_of_range": "Sayı 64 bit aralığının dışında.",
    },
)
