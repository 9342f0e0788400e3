from datetime import date

import pytest

from esign.masking import mask_email, mask_mobile
from services.applications.domain import contact
from services.applications.domain.contact import (
    FieldInvalid,
    format_mobile,
    mask_birth_date,
    parse_birth_date,
    parse_email,
    parse_person_name,
    parse_text,
    parse_turkish_mobile,
)

TODAY = date(2025, 6, 15)


def error_code(parse, *args) -> str:
    with pytest.raises(FieldInvalid) as excinfo:
        parse(*args)
    return excinfo.value.code


# --- mobile ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0532 123 45 67",
        "+90 (532) 123-45-67",
        "5321234567",
        "905321234567",
        "00905321234567",
        " 0532.123.45.67 ",
    ],
)
def test_mobile_numbers_become_e164(raw):
    assert parse_turkish_mobile(raw) == "+905321234567"


@pytest.mark.parametrize(
    "raw",
    [
        "0312 210 00 00",  # a landline (Ankara)
        "532123456",  # one digit short
        "053212345678",  # one digit too many
        "+49 1512 3456789",  # not Turkish
        "0532 123 45 6x",
        "+90 532 123 45 67 ext 2",
    ],
)
def test_other_numbers_are_not_turkish_mobiles(raw):
    assert error_code(parse_turkish_mobile, raw) == "mobile_invalid"


def test_blank_mobile_is_required():
    assert error_code(parse_turkish_mobile, "  ") == "required"


def test_mobile_formatting_and_masking():
    assert format_mobile("+905321234567") == "+90 532 123 45 67"
    assert mask_mobile("+905321234567") == "+90 5** *** ** 67"
    assert mask_mobile("nonsense") == "******se"


# --- e-mail ------------------------------------------------------------------


def test_email_is_normalised_without_a_dns_lookup():
    # The domain does not exist: only the syntax is checked.
    raw = " Ayse.Yilmaz@No-Such-Host.ESIGN-TEST.edu.tr "
    assert parse_email(raw) == "Ayse.Yilmaz@no-such-host.esign-test.edu.tr"


@pytest.mark.parametrize("raw", ["ayse", "ayse@", "@metu.edu.tr", "a b@metu.edu.tr", "a@b@c.tr"])
def test_bad_email_syntax(raw):
    assert error_code(parse_email, raw) == "email_invalid"


def test_a_domain_is_checked_once_and_answers_the_same_from_memory():
    # A staff list's addresses share a domain: email-validator's domain check is remembered
    # (contact._remember_domain_verdicts). If a new email-validator no longer looked the check up
    # where it is remembered, the hits below would stay at zero.
    contact._checked_domain.cache_clear()
    first = [parse_email(f"kisi{n}@Hacettepe.EDU.tr") for n in range(3)]
    assert first == [f"kisi{n}@hacettepe.edu.tr" for n in range(3)]
    assert contact._checked_domain.cache_info().hits == 2
    # Internationalised domains are normalised the same way from memory as the first time.
    assert parse_email("ayşe@Örnek.com.tr") == parse_email("ayşe@Örnek.com.tr") == "ayşe@örnek.com.tr"
    # An invalid domain is not remembered: it is refused every time, with the same code.
    for raw in ("kisi@örnek..tr", "kisi@örnek..tr", "kisi@-bad.tr", "kisi@localhost", "kisi@localhost"):
        assert error_code(parse_email, raw) == "email_invalid"


def test_mask_email():
    assert mask_email("ayse.yilmaz@example.edu.tr") == "a***@example.edu.tr"
    assert mask_email("no-at-sign") == "***"


# --- birth date --------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1985-03-04", "04.03.1985", "4.3.1985"])
def test_birth_date_formats(raw):
    assert parse_birth_date(raw, TODAY) == date(1985, 3, 4)


@pytest.mark.parametrize("raw", ["1985/03/04", "04-03-1985", "31.02.1985", "1985-13-01", "yesterday"])
def test_birth_date_format_errors(raw):
    assert error_code(parse_birth_date, raw, TODAY) == "date_format"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("2009-06-15", None),  # 16 today
        ("2009-06-16", "birth_date_range"),  # 16 only tomorrow
        ("1924-06-16", None),  # still 100, 101 tomorrow
        ("1924-06-15", "birth_date_range"),  # 101 today
        ("2025-06-16", "birth_date_range"),  # in the future
    ],
)
def test_birth_date_age_limits(raw, code):
    if code is None:
        assert parse_birth_date(raw, TODAY).isoformat() == raw
    else:
        assert error_code(parse_birth_date, raw, TODAY) == code


def test_birth_date_errors_do_not_repeat_the_date():
    with pytest.raises(FieldInvalid) as excinfo:
        parse_birth_date("16.06.2009", TODAY)
    assert "2009" not in excinfo.value.message


def test_mask_birth_date_keeps_only_the_year():
    assert mask_birth_date(date(1985, 3, 4)) == "**.**.1985"


# --- names and text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  İlkşen   Çağrı ", "İlkşen Çağrı"),
        ("IŞIK", "IŞIK"),  # dotless capital I stays as typed
        ("ışık", "ışık"),
        ("Öztürk-Güneş", "Öztürk-Güneş"),
        ("O'Brien", "O'Brien"),
        ("Jean-Luc St. Étienne", "Jean-Luc St. Étienne"),
        ("s\u0327ule", "şule"),  # decomposed input becomes the one letter
    ],
)
def test_person_names_keep_letters_as_typed(raw, expected):
    assert parse_person_name(raw, "first_name") == expected


@pytest.mark.parametrize("raw", ["Ali2", "Ayşe!", "--", "Иван", "a" * 101, "Ali\x00"])
def test_person_name_rejects_other_characters(raw):
    assert error_code(parse_person_name, raw, "last_name") == "name_invalid"


def test_person_name_message_names_the_field():
    with pytest.raises(FieldInvalid) as excinfo:
        parse_person_name("Ali2", "last_name")
    assert "last name" in excinfo.value.message


def test_blank_name_is_required():
    assert error_code(parse_person_name, "   ", "first_name") == "required"


def test_text_is_trimmed_and_bounded():
    assert parse_text("  Bilgi   İşlem\tDaire  ", 30) == "Bilgi İşlem Daire"
    assert error_code(parse_text, "x" * 31, 30) == "text_too_long"
    assert error_code(parse_text, "", 30) == "required"
    assert error_code(parse_text, "Birim\x00", 30) == "text_invalid"
