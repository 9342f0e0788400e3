from datetime import date

from services.applications.domain.roster import RosterRow, RowError, validate_roster
from services.applications.domain.tckn import TCKimlikNo
from tests.support.applications import make_tckn

TODAY = date(2025, 6, 15)


def staff(**overrides: str) -> dict[str, str]:
    record = {
        "tckn": "10000000146",
        "first_name": "Ayşe",
        "last_name": "Yılmaz",
        "birth_date": "04.03.1985",
        "title": "Öğretim Görevlisi",
        "unit": "Bilgi İşlem Daire Başkanlığı",
        "email": "ayse.yilmaz@metu.edu.tr",
        "mobile": "0532 123 45 67",
    }
    record.update(overrides)
    return record


def test_a_valid_row_is_parsed():
    report = validate_roster([(2, staff())], TODAY)
    assert report.ok
    assert report.errors == []
    assert report.rows == [
        RosterRow(
            line=2,
            tckn=TCKimlikNo("10000000146"),
            first_name="Ayşe",
            last_name="Yılmaz",
            birth_date=date(1985, 3, 4),
            title="Öğretim Görevlisi",
            unit="Bilgi İşlem Daire Başkanlığı",
            email="ayse.yilmaz@metu.edu.tr",
            mobile="+905321234567",
        )
    ]


def test_every_error_of_a_row_is_reported():
    bad = staff(tckn="17291716050", birth_date="31.02.1985", email="ayse@", mobile="0312 210 00 00")
    report = validate_roster([(2, bad), (3, staff(tckn="14948892948", email="b@metu.edu.tr"))], TODAY)
    assert not report.ok
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (2, "tckn", "tckn_checksum"),
        (2, "birth_date", "date_format"),
        (2, "email", "email_invalid"),
        (2, "mobile", "mobile_invalid"),
    ]
    assert [row.line for row in report.rows] == [3]


def test_missing_values_are_required():
    record = staff()
    del record["unit"]
    report = validate_roster([(4, record | {"title": " "})], TODAY)
    assert {(e.field, e.code) for e in report.errors} == {
        ("unit", "required"),
        ("title", "required"),
    }


def test_duplicates_inside_the_file_name_the_first_line():
    records = [
        (2, staff()),
        (3, staff(tckn="14948892948", email="other@metu.edu.tr")),
        (5, staff(email="third@metu.edu.tr")),  # same TC Kimlik No as line 2
        (6, staff(tckn="76558242278", email="AYSE.YILMAZ@metu.edu.tr")),  # same e-mail as 2
    ]
    report = validate_roster(records, TODAY)
    assert report.errors == [
        RowError(5, "tckn", "duplicate_in_file", "TC Kimlik No 100******46 is already on line 2."),
        RowError(6, "email", "duplicate_in_file", "E-mail A***@metu.edu.tr is already on line 2."),
    ]
    assert [row.line for row in report.rows] == [2, 3]


def test_messages_never_contain_the_number_or_the_birth_date():
    records = [
        (2, staff(tckn="17291716050", birth_date="2015-01-01")),
        (3, staff(email="x@metu.edu.tr")),
        (4, staff(email="y@metu.edu.tr")),
    ]
    report = validate_roster(records, TODAY)
    assert len(report.errors) == 3  # tckn, birth date, line 4 repeating line 3's number
    for error in report.errors:
        for secret in ("17291716050", "10000000146", "2015", "1985"):
            assert secret not in error.message


def test_the_birth_date_is_left_out_of_a_rows_repr():
    report = validate_roster([(2, staff())], TODAY)
    assert "1985" not in repr(report.rows[0])
    assert "10000000146" not in repr(report.rows[0])


def test_ten_thousand_rows_with_one_late_duplicate():
    # Speed is measured by bench/roster_import.py, not here: tests assert behaviour only.
    records = [(n + 2, staff(tckn=make_tckn(n), email=f"user{n}@metu.edu.tr")) for n in range(10_000)]
    records.append((10_002, staff(tckn=make_tckn(0), email="late@metu.edu.tr")))
    report = validate_roster(records, TODAY)
    assert len(report.rows) == 10_000
    assert [(e.line, e.code) for e in report.errors] == [(10_002, "duplicate_in_file")]
