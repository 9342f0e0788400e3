import pytest

from services.applications.domain.contact import FieldInvalid
from services.applications.domain.form import (
    CardReaderType,
    DeliveryAddress,
    FieldError,
    FormDraft,
    PriorCertificateReason,
    ValidityYears,
    apply_patch,
    completeness_errors,
    validate_security_word,
)

ADDRESS = {
    "line1": "Üniversiteler Mah. Dumlupınar Blv. No: 1",
    "district": "Çankaya",
    "city": "Ankara",
    "postal_code": "06800",
}
COMPLETE_PATCH = {
    "registry_number": "A-10234",
    "unit": "Bilgi İşlem Daire Başkanlığı",
    "title": "Öğretim Görevlisi",
    "institutional_email": "ayse.yilmaz@metu.edu.tr",
    "mobile": "0532 123 45 67",
    "delivery_address": ADDRESS,
    "card_reader_type": "acr39u",
    "validity_years": 5,
    "prior_certificate_reason": "none",
    "publish_consent": True,
}


def complete_draft() -> FormDraft:
    draft, errors = apply_patch(FormDraft(security_word_set=True), COMPLETE_PATCH)
    assert errors == []
    return draft


def codes(errors: list[FieldError]) -> dict[str, str]:
    return {error.field: error.code for error in errors}


def test_a_valid_patch_is_parsed_into_typed_values():
    draft = complete_draft()
    assert draft.mobile == "+905321234567"
    assert draft.card_reader_type is CardReaderType.ACR39U
    assert draft.validity_years is ValidityYears.FIVE
    assert draft.prior_certificate_reason is PriorCertificateReason.NONE
    assert draft.delivery_address == DeliveryAddress(
        line1="Üniversiteler Mah. Dumlupınar Blv. No: 1",
        district="Çankaya",
        city="Ankara",
        postal_code="06800",
    )
    assert completeness_errors(draft) == []


def test_the_given_draft_is_not_modified():
    draft = FormDraft()
    apply_patch(draft, {"unit": "Birim"})
    assert draft.unit is None


def test_good_fields_apply_while_bad_ones_are_reported():
    draft, errors = apply_patch(FormDraft(), {"unit": "Bilgi İşlem", "mobile": "0312 210 00 00", "validity_years": 4})
    assert draft.unit == "Bilgi İşlem"
    assert draft.mobile is None
    assert codes(errors) == {"mobile": "mobile_invalid", "validity_years": "choice_invalid"}


@pytest.mark.parametrize("field", ["tckn", "first_name", "last_name", "birth_date", "birth_place"])
def test_identity_fields_are_read_only(field):
    _, errors = apply_patch(FormDraft(), {field: "anything"})
    assert codes(errors) == {field: "read_only"}


def test_the_security_word_flag_is_not_patchable():
    draft, errors = apply_patch(FormDraft(), {"security_word_set": True})
    assert codes(errors) == {"security_word_set": "read_only"}
    assert draft.security_word_set is False


def test_unknown_fields_are_reported():
    _, errors = apply_patch(FormDraft(), {"favourite_colour": "blue"})
    assert codes(errors) == {"favourite_colour": "unknown_field"}


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"card_reader_type": "acr99"}, {"card_reader_type": "choice_invalid"}),
        ({"prior_certificate_reason": "bored"}, {"prior_certificate_reason": "choice_invalid"}),
        ({"validity_years": "5"}, {"validity_years": "choice_invalid"}),
        ({"validity_years": True}, {"validity_years": "choice_invalid"}),
        ({"publish_consent": "yes"}, {"publish_consent": "type_invalid"}),
        ({"unit": 42}, {"unit": "type_invalid"}),
        ({"title": "x" * 101}, {"title": "text_too_long"}),
        ({"institutional_email": "ayse@"}, {"institutional_email": "email_invalid"}),
        ({"delivery_address": "Ankara"}, {"delivery_address": "type_invalid"}),
    ],
)
def test_invalid_values(patch, expected):
    _, errors = apply_patch(FormDraft(), patch)
    assert codes(errors) == expected


def test_address_errors_use_dotted_paths_and_keep_the_old_address():
    draft = complete_draft()
    bad_address = {"line1": "Yeni Sokak 5", "city": "İzmir", "postal_code": "3500", "floor": 2}
    patched, errors = apply_patch(draft, {"delivery_address": bad_address})
    assert codes(errors) == {
        "delivery_address.floor": "unknown_field",
        "delivery_address.district": "required",
        "delivery_address.postal_code": "postal_code_invalid",
    }
    assert patched.delivery_address == draft.delivery_address


def test_none_or_blank_clears_a_field():
    draft, errors = apply_patch(complete_draft(), {"unit": None, "title": "  ", "delivery_address": None})
    assert errors == []
    assert (draft.unit, draft.title, draft.delivery_address) == (None, None, None)
    assert codes(completeness_errors(draft)) == {
        "unit": "required",
        "title": "required",
        "delivery_address": "required",
    }


def test_an_empty_draft_lists_everything_missing():
    assert codes(completeness_errors(FormDraft())) == {
        "registry_number": "required",
        "unit": "required",
        "title": "required",
        "institutional_email": "required",
        "mobile": "required",
        "delivery_address": "required",
        "card_reader_type": "required",
        "validity_years": "required",
        "prior_certificate_reason": "required",
        "security_word": "required",
        "publish_consent": "publish_consent_required",
    }


@pytest.mark.parametrize("consent", [False, None])
def test_publication_consent_is_required_and_explained(consent):
    draft, _ = apply_patch(complete_draft(), {"publish_consent": consent})
    [error] = completeness_errors(draft)
    assert (error.field, error.code) == ("publish_consent", "publish_consent_required")
    assert "verified" in error.message
    assert "published" in error.message


def test_a_note_is_required_when_the_reason_is_other():
    draft, _ = apply_patch(complete_draft(), {"prior_certificate_reason": "other"})
    assert codes(completeness_errors(draft)) == {"prior_certificate_note": "required"}
    draft, _ = apply_patch(draft, {"prior_certificate_note": "Kart arızalandı."})
    assert completeness_errors(draft) == []


@pytest.mark.parametrize("word", ["Kedi", "Güneşli2024", "ışık", "a" * 32])
def test_security_words_accepted(word):
    assert validate_security_word(f" {word} ") == word


@pytest.mark.parametrize("word", ["abc", "a" * 33, "iki kelime", "parola!", "", "пароль"])
def test_security_words_rejected(word):
    with pytest.raises(FieldInvalid) as excinfo:
        validate_security_word(word)
    assert excinfo.value.code == "security_word_invalid"
