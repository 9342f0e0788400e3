"""The JSON every service accepts (esign.safe_json): what is refused, with which field and code."""

from __future__ import annotations

import pytest

from esign import safe_json


def refusal(body: bytes) -> set[tuple[str, str]]:
    with pytest.raises(safe_json.UnsafeJson) as exc:
        safe_json.loads(body)
    return {(e.field, e.code) for e in exc.value.errors}


def test_ordinary_documents_pass_unchanged():
    body = '{"staff": [{"tckn": 10000000146, "ad": "Ayşe", "oran": 1.5, "x": null}]}'.encode()
    assert safe_json.loads(body) == {"staff": [{"tckn": 10000000146, "ad": "Ayşe", "oran": 1.5, "x": None}]}
    assert safe_json.loads(str(2**63 - 1).encode()) == 2**63 - 1


@pytest.mark.parametrize(
    "body, expected",
    [
        ("[" * 33 + "]" * 33, ("body", "too_deep")),
        ("[" * 1000 + "]" * 1000, ("body", "too_deep")),
        ("[" * 100_000 + "]" * 100_000, ("body", "too_deep")),
        (str(2**63), ("body", "number_out_of_range")),
        ("-" + "9" * 4301, ("body", "number_out_of_range")),
        ("1e400", ("body", "number_out_of_range")),
        ("NaN", ("body", "number_out_of_range")),
        ('{"a": ', ("body", "json_invalid")),
        ('{"ad": "A\\u0000B"}', ("ad", "unstorable_character")),
        ('{"A\\u0000B": 1}', ("A\x00B", "unstorable_character")),
        ('{"a": [{"b": "\\udc00"}]}', ("a.0.b", "unstorable_character")),
    ],
)
def test_what_cannot_be_stored_is_refused_with_its_field(body, expected):
    assert expected in refusal(body.encode())


def test_a_surrogate_pair_is_one_ordinary_character():
    assert safe_json.loads(b'"\\ud83d\\ude00"') == "\U0001f600"


def test_a_body_that_is_not_utf8_is_refused():
    assert refusal('{"ad": "Örnek"}'.encode("latin-1")) == {("body", "utf8_invalid")}
    assert refusal('{"ad": "Ayşe"}'.encode("utf-16")) == {("body", "utf8_invalid")}
