"""Which language a problem answer speaks (esign.problem_language), and how a Turkish text is
filled in; the services' answers themselves are tested per service (test_problem_language.py)."""

from __future__ import annotations

import pytest

from esign.problem_language import SHARED_TURKISH, ProblemTexts, fill, negotiate
from esign.problems import FieldProblem, Problem, localised


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "tr"),
        ("", "tr"),
        ("tr", "tr"),
        ("tr-TR,tr;q=0.9", "tr"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("de-DE, en;q=0.5", "en"),  # German is not ours; English is the one we have
        ("tr;q=0.5, en;q=0.8", "en"),
        ("en;q=0.8, tr", "tr"),
        ("en;q=0", "tr"),  # "not English"
        ("*", "tr"),
        ("fr, de", "tr"),
        ("en;q=abc", "tr"),
    ],
)
def test_the_language_is_negotiated_turkish_by_default(header, language):
    assert negotiate(header) == language


def test_a_template_is_filled_from_the_problem_and_falls_back_when_it_cannot_be():
    assert fill("{retry_after_seconds} saniye", {"retry_after_seconds": 30}, "x") == "30 saniye"
    assert fill("{missing} saniye", {}, "English") == "English"
    assert fill(None, {}, "English") == "English"


def test_turkish_replaces_titles_details_and_field_messages_by_code_and_english_keeps_them():
    texts = SHARED_TURKISH.with_(ProblemTexts(fields={"tckn_checksum": "Kontrol haneleri tutmuyor."}))
    errors = [
        FieldProblem(field="tckn", code="tckn_checksum", message="Checksum digits do not match."),
        FieldProblem(
            field="unit", code="string_too_long", message="String should have at most 5 characters"
        ).with_params({"max_length": 5}),
        FieldProblem(field="x", code="value_error", message="Something only English knows."),
    ]
    problem = Problem(422, "validation_failed", "The request is not valid", "See `errors`.", errors)
    tr = localised(problem, "tr", texts)
    assert (tr.title, tr.detail) == ("İstek geçerli değil", "Her alanın sorunu `errors` içinde.")
    assert [e.message for e in tr.errors] == [
        "Kontrol haneleri tutmuyor.",
        "En çok 5 karakter olabilir.",
        "Something only English knows.",  # no Turkish text: the English one, never a blank
    ]
    assert [(e.field, e.code) for e in tr.errors] == [(e.field, e.code) for e in errors]
    assert localised(problem, "en", texts) is problem
