import json

import pytest

from services.applications.adapters.roster_files import (
    RosterFileError,
    read_roster_file,
)

TURKISH_HEADER = "TC Kimlik No;Ad;Soyad;Doğum Tarihi;Unvan;Birim;Kurumsal E-posta;Cep Telefonu"
ENGLISH_HEADER = "tckn,first_name,last_name,birth_date,title,unit,email,mobile"
AYSE = {
    "tckn": "10000000146",
    "first_name": "Ayşe",
    "last_name": "Yılmaz",
    "birth_date": "04.03.1985",
    "title": "Öğretim Görevlisi",
    "unit": "Bilgi İşlem",
    "email": "ayse@metu.edu.tr",
    "mobile": "0532 123 45 67",
}
AYSE_SEMICOLON = ";".join(AYSE.values())


def read_csv(text: str, **kwargs):
    return read_roster_file(text.encode(), "text/csv", "staff.csv", **kwargs)


def file_error(content: bytes, content_type=None, filename=None, **kwargs) -> RosterFileError:
    with pytest.raises(RosterFileError) as excinfo:
        read_roster_file(content, content_type, filename, **kwargs)
    return excinfo.value


def test_turkish_semicolon_csv_from_excel_with_bom():
    content = ("\ufeff" + TURKISH_HEADER + "\r\n" + AYSE_SEMICOLON + "\r\n").encode()
    assert read_roster_file(content, "text/csv", "personel.csv") == [(2, AYSE)]


def test_english_comma_csv():
    text = ENGLISH_HEADER + "\n" + ",".join(AYSE.values()) + "\n"
    assert read_csv(text) == [(2, AYSE)]


def test_header_names_ignore_case_dotted_i_and_missing_turkish_letters():
    header = "TCKN;AD;SOYAD;DOGUM TARİHİ;ÜNVAN;BİRİM;E-POSTA;GSM"
    assert read_csv(header + "\n" + AYSE_SEMICOLON) == [(2, AYSE)]
    header = "tc kımlık no;adı;soyadı;doğum tarihi;unvan;birim;e-posta;cep telefonu"
    assert read_csv(header + "\n" + AYSE_SEMICOLON) == [(2, AYSE)]


def test_quoted_fields_with_delimiters_and_newlines_keep_physical_line_numbers():
    text = (
        TURKISH_HEADER
        + "\n"
        + '14948892948;Mehmet;Öz;1980-01-02;"Dr. Öğr. Üyesi; Bölüm Başkanı";'
        + '"Bilgisayar\nMühendisliği";m@metu.edu.tr;5321112233\n'
        + "\n"  # a blank line
        + AYSE_SEMICOLON
        + "\n"
    )
    records = read_csv(text)
    assert [line for line, _ in records] == [2, 5]
    assert records[0][1]["title"] == "Dr. Öğr. Üyesi; Bölüm Başkanı"
    assert records[0][1]["unit"] == "Bilgisayar\nMühendisliği"


def test_commas_inside_titles_do_not_fool_the_delimiter_detection():
    # Every title holds one comma while some rows lack their last cells: the
    # sniffer alone finds "," the more consistent delimiter here.
    row = AYSE_SEMICOLON.replace("Öğretim Görevlisi", "Öğr. Gör., Bölüm")
    short_row = ";".join(row.split(";")[:6])
    rows = [short_row if n % 3 == 0 else row for n in range(30)]
    records = read_csv("\n".join([TURKISH_HEADER, *rows]))
    assert len(records) == 30
    assert records[0][1]["title"] == "Öğr. Gör., Bölüm"
    assert records[1][1]["mobile"] == "0532 123 45 67"


def test_a_single_row_file_falls_back_on_the_header():
    text = TURKISH_HEADER + "\n" + AYSE_SEMICOLON
    assert read_csv(text)[0][1]["mobile"] == "0532 123 45 67"


def test_extra_columns_are_ignored_and_short_rows_padded():
    text = "Sıra;" + TURKISH_HEADER + ";Not\n1;10000000146;Ayşe\n"
    [(line, record)] = read_csv(text)
    assert line == 2
    assert record["first_name"] == "Ayşe"
    assert record["mobile"] == ""
    assert set(record) == set(AYSE)


def test_spreadsheet_filler_rows_are_skipped():
    text = TURKISH_HEADER + "\n" + AYSE_SEMICOLON + "\n;;;;;;;\n;;;;;;;\n"
    assert [line for line, _ in read_csv(text)] == [2]


def test_missing_columns_are_listed():
    error = file_error(b"TCKN;Ad;Soyad\n10000000146;A;B\n", "text/csv")
    assert error.code == "missing_columns"
    assert error.missing == ["birth_date", "title", "unit", "email", "mobile"]


def test_two_columns_for_one_field_are_rejected():
    header = TURKISH_HEADER + ";E-posta"
    assert file_error((header + "\n" + AYSE_SEMICOLON).encode(), "text/csv").code == "malformed"


def test_non_utf8_is_reported_as_an_encoding_problem():
    content = (TURKISH_HEADER + "\n" + AYSE_SEMICOLON).encode("cp1254")  # Excel's Turkish ANSI
    assert file_error(content, "text/csv", "staff.csv").code == "encoding"


@pytest.mark.parametrize("content", [b"", b"  \r\n", "\ufeff".encode()])
def test_empty_files(content):
    assert file_error(content, "text/csv", "staff.csv").code == "empty"


def test_a_header_without_rows_is_empty():
    assert file_error(TURKISH_HEADER.encode(), "text/csv").code == "empty"


def test_row_limit():
    text = TURKISH_HEADER + "\n" + "\n".join([AYSE_SEMICOLON] * 4)
    assert len(read_csv(text, max_rows=4)) == 4
    error = file_error(text.encode(), "text/csv", max_rows=3)
    assert error.code == "too_many_rows"


def test_json_list_and_staff_object():
    entry = AYSE | {"extra": "ignored"}
    for document in ([entry, entry], {"staff": [entry, entry]}):
        content = json.dumps(document).encode()
        assert read_roster_file(content, "application/json", None) == [(1, AYSE), (2, AYSE)]


def test_json_accepts_turkish_keys_numbers_and_nulls():
    entry = {
        "TC Kimlik No": 10000000146,
        "Ad": "Ayşe",
        "Soyad": "Yılmaz",
        "Doğum Tarihi": "04.03.1985",
        "Unvan": None,
        "Birim": "Bilgi İşlem",
        "E-posta": "ayse@metu.edu.tr",
        "GSM": 5321234567,
    }
    [(_, record)] = read_roster_file(json.dumps([entry]).encode(), None, "staff.json")
    assert record["tckn"] == "10000000146"
    assert record["mobile"] == "5321234567"
    assert record["title"] == ""


@pytest.mark.parametrize(
    "document",
    [{"people": []}, "a string", [AYSE, "not an object"], [AYSE | {"tckn": 1.0000000146e10}]],
)
def test_malformed_json(document):
    assert file_error(json.dumps(document).encode(), "application/json").code == "malformed"


def test_invalid_json_syntax():
    assert file_error(b'[{"tckn": ', "application/json").code == "malformed"


def test_json_missing_columns_across_all_entries():
    entries = [{k: v for k, v in AYSE.items() if k != "mobile"}] * 2
    error = file_error(json.dumps(entries).encode(), "application/json")
    assert (error.code, error.missing) == ("missing_columns", ["mobile"])


def test_an_empty_json_list_is_empty():
    assert file_error(b"[]", "application/json").code == "empty"


def test_json_row_limit():
    content = json.dumps([AYSE] * 3).encode()
    assert file_error(content, "application/json", max_rows=2).code == "too_many_rows"


@pytest.mark.parametrize(
    ("content_type", "filename", "expected"),
    [
        ("application/octet-stream", "staff.json", "json"),
        ("application/vnd.ms-excel", "staff.csv", "csv"),  # Windows browsers with Excel
        ("application/json; charset=utf-8", None, "json"),
        (None, None, "json"),  # guessed from the first character
    ],
)
def test_format_detection(content_type, filename, expected):
    content = json.dumps([AYSE]) if expected == "json" else ENGLISH_HEADER + "\n" + ",".join(AYSE.values())
    assert read_roster_file(content.encode(), content_type, filename) == [(1 if expected == "json" else 2, AYSE)]


@pytest.mark.parametrize(
    ("content_type", "filename"),
    [
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "staff.xlsx"),
        ("application/pdf", None),
        (None, "staff.xls"),
    ],
)
def test_unknown_formats(content_type, filename):
    assert file_error(b"PK\x03\x04...", content_type, filename).code == "unknown_format"


def test_json_keys_left_out_of_one_entry_are_blank():
    entries = [AYSE, {k: v for k, v in AYSE.items() if k != "unit"}]
    records = read_roster_file(json.dumps(entries).encode(), "application/json", None)
    assert records[1] == (2, AYSE | {"unit": ""})
