import pytest

from services.applications.domain.tckn import InvalidTCKimlikNo, TCKimlikNo, mask_tckn

VALID = [
    "10000000146",
    "17291716060",
    "14948892948",
    "76558242278",
    "80476431508",
    "90794350894",  # foreign residents' numbers start with 9
    "43473624496",
]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_parse(number):
    assert TCKimlikNo.parse(number).value == number


def test_surrounding_spaces_are_forgiven():
    assert TCKimlikNo.parse("  10000000146\t").value == "10000000146"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("17291716050", "tckn_checksum"),  # 10th digit wrong
        ("14948892946", "tckn_checksum"),  # 11th digit wrong
        ("14948892937", "tckn_checksum"),  # both wrong
        ("04948892948", "tckn_leading_zero"),
        ("00000000000", "tckn_leading_zero"),
        ("1494889294", "tckn_format"),
        ("149488929480", "tckn_format"),
        ("1494889294a", "tckn_format"),
        ("149 4889 2948", "tckn_format"),  # inner spaces are not forgiven
        ("١٠٠٠٠٠٠٠١٤٦", "tckn_format"),  # Arabic-Indic digits pass str.isdigit()
        ("", "tckn_format"),
        ("11111111110", "tckn_placeholder"),  # passes the checksum
        ("99999999990", "tckn_placeholder"),
        ("22222222222", "tckn_placeholder"),
    ],
)
def test_invalid_numbers_carry_a_stable_code(number, code):
    with pytest.raises(InvalidTCKimlikNo) as excinfo:
        TCKimlikNo.parse(number)
    assert excinfo.value.code == code
    assert excinfo.value.message
    if number:
        assert number not in str(excinfo.value)


def test_placeholder_really_passes_the_checksum():
    """Otherwise the placeholder rule would be untested."""
    digits = [int(c) for c in "11111111110"]
    assert (sum(digits[0:9:2]) * 7 - sum(digits[1:9:2])) % 10 == digits[9]
    assert sum(digits[:10]) % 10 == digits[10]


def test_negative_remainder_is_taken_non_negative():
    # 1,9,0,9,0,0,0,0,0: 7*1 - 18 = -11, whose non-negative remainder is 9.
    # C's % would give -1, and abs() would give 1.
    assert TCKimlikNo.parse("19090000098").value == "19090000098"
    for wrong_tenth_digit in ("19090000018", "19090000088"):
        with pytest.raises(InvalidTCKimlikNo) as excinfo:
            TCKimlikNo.parse(wrong_tenth_digit)
        assert excinfo.value.code == "tckn_checksum"


def test_check_digit_is_zero_not_ten():
    # 17291716060: d1..d10 sum to 40, so d11 is 0 (a "10 - x" formula would say 10).
    assert sum(int(c) for c in "1729171606") % 10 == 0
    assert TCKimlikNo.parse("17291716060")
    # 80476431508: 7*odd - even = 170, so d10 is 0.
    assert TCKimlikNo.parse("80476431508")


def test_constructor_validates_too():
    with pytest.raises(InvalidTCKimlikNo):
        TCKimlikNo("17291716050")


def test_str_and_repr_are_masked():
    tckn = TCKimlikNo.parse("10000000146")
    assert tckn.masked() == "100******46"
    assert str(tckn) == "100******46"
    assert f"{tckn}" == "100******46"
    assert "10000000146" not in repr(tckn)
    assert "10000000146" not in repr([tckn])


def test_equal_numbers_are_equal_and_hashable():
    assert TCKimlikNo.parse("10000000146") == TCKimlikNo.parse(" 10000000146")
    assert len({TCKimlikNo.parse("10000000146"), TCKimlikNo.parse("10000000146")}) == 1


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("10000000146", "100******46"),
        (" 10000000146 ", "100******46"),
        ("1494889294", "149*****94"),
        ("12345", "*****"),
        ("", ""),
        ("garbage text", "gar*******xt"),
    ],
)
def test_mask_tckn_handles_any_string(raw, masked):
    assert mask_tckn(raw) == masked
