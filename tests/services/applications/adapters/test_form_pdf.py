import io
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from services.applications.adapters.form_pdf import (
    DEFAULT_FONT_DIR,
    FontMissingError,
    PrintableForm,
    render_application_form,
)
from services.applications.domain.form import (
    ADDRESS_LINE_MAX_LEN,
    PRIOR_CERTIFICATE_NOTE_MAX_LEN,
    CardReaderType,
    DeliveryAddress,
    FormDraft,
    PriorCertificateReason,
    ValidityYears,
)
from services.applications.domain.tckn import TCKimlikNo

pytestmark = pytest.mark.skipif(
    not (DEFAULT_FONT_DIR / "DejaVuSans.ttf").is_file(),
    reason="Debian package fonts-dejavu-core is not installed",
)

TURKISH_LETTERS = "İıŞşĞğÇçÖöÜü"
FORM = PrintableForm(
    reference="NES-2025-000123",
    institution_name="Orta Doğu Teknik Üniversitesi",
    tckn=TCKimlikNo.parse("10000000146"),
    # Between them the names hold every Turkish letter.
    first_name="Işıl Çiğdem",
    last_name="ÖZGÜNEŞ-DOĞAN",
    birth_place="İzmir",
    birth_date=date(1985, 3, 4),
    form=FormDraft(
        registry_number="A-10234",
        unit="Bilgi İşlem Daire Başkanlığı",
        title="Doçent",
        institutional_email="isil.ozgunes@metu.edu.tr",
        mobile="+905321234567",
        delivery_address=DeliveryAddress(
            line1="Bülbül Sokak No: 3 Daire 4",
            district="Gölbaşı",
            city="Ankara",
            postal_code="06830",
        ),
        card_reader_type=CardReaderType.ACR39U,
        validity_years=ValidityYears.FIVE,
        prior_certificate_reason=PriorCertificateReason.RENEWAL,
        publish_consent=True,
        security_word_set=True,
    ),
)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_application_form(FORM)


def test_the_form_is_two_a4_pages(rendered):
    reader = PdfReader(io.BytesIO(rendered))
    assert len(reader.pages) == 2
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_names_and_every_turkish_letter_survive(rendered):
    text = "\n".join(page_texts(rendered))
    for value in ("Işıl Çiğdem", "ÖZGÜNEŞ-DOĞAN", "İzmir", "Gölbaşı", "Bülbül Sokak", "Doçent"):
        assert value in text
    assert set(TURKISH_LETTERS) <= set(text)


def test_the_form_carries_identity_fields_and_statements(rendered):
    text = "\n".join(page_texts(rendered))
    assert "10000000146" in text  # in full: the CA matches it to the population registry
    assert "04.03.1985" in text
    assert "+90 532 123 45 67" in text
    assert "Kayıtlı / on file" in text  # the security word itself is never printed
    consent_line = next(line for line in text.splitlines() if "İnternetten" in line)
    assert consent_line.startswith("X Sertifikam İnternetten yayınlansın")  # box ticked
    assert "Taahhütname" in text
    assert "İmza / Signature" in text


def test_every_page_has_the_reference_and_page_number(rendered):
    for number, text in enumerate(page_texts(rendered), start=1):
        assert "NES-2025-000123" in text
        assert f"{number}/2" in text


def test_personal_data_stays_out_of_the_metadata(rendered):
    metadata = PdfReader(io.BytesIO(rendered)).metadata
    assert "NES-2025-000123" in metadata.title
    assert not any("10000000146" in str(value) or "1985" in str(value) for value in metadata.values())


def test_a_form_without_consent_shows_an_empty_box_and_dashes():
    draft = replace(FORM.form, publish_consent=False, registry_number=None)
    text = "\n".join(page_texts(render_application_form(replace(FORM, form=draft))))
    consent_line = next(line for line in text.splitlines() if "İnternetten" in line)
    assert not consent_line.startswith("X")
    assert "—" in text


def test_the_longest_form_flows_onto_a_third_page_with_footers():
    note = ("Eski kartım arızalandı ve okunamıyor. " * 20)[:PRIOR_CERTIFICATE_NOTE_MAX_LEN]
    address = replace(
        FORM.form.delivery_address,
        line1=("Çok Uzun Mahalle Adı Mahallesi, Cadde Adı Caddesi No: 123 " * 3)[:ADDRESS_LINE_MAX_LEN],
        line2=("Bilgi İşlem Daire Başkanlığı, Yazılım Birimi, Oda 204 " * 3)[:ADDRESS_LINE_MAX_LEN],
    )
    draft = replace(
        FORM.form,
        delivery_address=address,
        prior_certificate_reason=PriorCertificateReason.OTHER,
        prior_certificate_note=note,
    )
    pages = page_texts(render_application_form(replace(FORM, form=draft)))
    assert len(pages) == 3
    assert all(f"{n}/3" in text for n, text in enumerate(pages, start=1))
    assert "Diğer / Other" in "".join(pages)


def test_a_missing_font_names_the_debian_package(tmp_path):
    with pytest.raises(FontMissingError, match="fonts-dejavu-core"):
        render_application_form(FORM, font_dir=tmp_path)


def test_the_font_directory_can_be_overridden(tmp_path):
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        shutil.copy(DEFAULT_FONT_DIR / name, tmp_path / name)
    assert page_texts(render_application_form(FORM, font_dir=str(tmp_path)))


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_the_pages_rasterise(rendered, tmp_path):
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(rendered)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(Path(tmp_path).glob("page-*.png"))
    assert len(pngs) == 2
    assert all(png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5000 for png in pngs)
