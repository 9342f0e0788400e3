"""The printable application form: the applicant signs it by hand (ıslak imza)
and the NES officer forwards the paper to the certification centre.

The signed paper is the legal application and the CA matches it against the
population registry, so this is the one place where the TC Kimlik No and the
birth date are printed in full. They go nowhere else: not into the footer,
not into the PDF's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from services.applications.domain.contact import format_mobile
from services.applications.domain.form import (
    CardReaderType,
    DeliveryAddress,
    FormDraft,
    PriorCertificateReason,
)
from services.applications.domain.tckn import TCKimlikNo

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_FAMILY = "DejaVu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

_MARGIN = 18  # mm
_LABEL_WIDTH = 58
_LINE_HEIGHT = 5
_ROW_PADDING = 1.5
_GREY = (110, 110, 110)
_RULE_GREY = (200, 200, 200)
_SECTION_FILL = (235, 238, 242)
_NOT_GIVEN = "—"

_CARD_READERS = {
    CardReaderType.ACR38T: "ACS ACR38T",
    CardReaderType.ACR39U: "ACS ACR39U",
    CardReaderType.NONE: "İstemiyorum, kart okuyucum var / Not needed, I have a reader",
}
_PRIOR_CERTIFICATE = {
    PriorCertificateReason.NONE: "Yok (ilk başvuru) / None (first application)",
    PriorCertificateReason.RENEWAL: "Var, yenileme / Renewal",
    PriorCertificateReason.LOST_OR_STOLEN: "Var, kayıp veya çalıntı / Lost or stolen",
    PriorCertificateReason.OTHER: "Diğer / Other",
}

FORM_TITLE = "NİTELİKLİ ELEKTRONİK SERTİFİKA BAŞVURU FORMU"
FORM_TITLE_EN = "Qualified electronic certificate application form"
INSTRUCTIONS = (
    "Formu yazdırıp elle imzalayınız ve kurumunuzun NES yetkilisine teslim ediniz. / "
    "Print this form, sign it by hand and hand it to your institution's NES officer."
)
CONSENT_STATEMENT = (
    "Sertifikam İnternetten yayınlansın. Elektronik imzalı belgelerimin Kamu SM "
    "sunucularından doğrulanabilmesi için sertifikamın İnternet'te yayınlanması "
    "gerektiğini biliyorum."
)
CONSENT_STATEMENT_EN = (
    "Publish my certificate on the internet: documents I sign can only be verified "
    "against Kamu SM's servers if the certificate is published."
)
COMMITMENT_INTRO = (
    "Kamu Sertifikasyon Merkezi'nden (Kamu SM) nitelikli elektronik sertifika talep eden başvuru sahibi olarak;"
)
COMMITMENT_ITEMS = (
    "Bu formda verdiğim bilgilerin doğru ve güncel olduğunu, bilgilerimde bir değişiklik "
    "olursa bunu kurumuma ve Kamu SM'ye bildireceğimi,",
    "Sertifikamın bulunduğu akıllı kartı yalnızca kendim kullanacağımı; kartımı, PIN ve "
    "PUK kodlarımı ve güvenlik sözcüğümü kimseyle paylaşmayacağımı ve gizli tutacağımı,",
    "Kartımın kaybolması veya çalınması ya da PIN kodumun başkalarınca öğrenildiğinden "
    "şüphelenmem hâlinde durumu gecikmeden Kamu SM'ye bildirip sertifikamın iptalini "
    "isteyeceğimi,",
    "Nitelikli elektronik imzamın, 5070 sayılı Elektronik İmza Kanunu uyarınca elle atılan "
    "imzayla aynı hukuki sonucu doğurduğunu bildiğimi,",
    "Kamu SM'nin Sertifika İlkeleri ve Sertifika Uygulama Esasları'nda sertifika sahibi için "
    "belirlenen yükümlülükleri ve hizmet koşullarını okuduğumu ve kabul ettiğimi",
)
COMMITMENT_CLOSING = "beyan ve taahhüt ederim."


class FontMissingError(RuntimeError):
    """The TrueType font the form needs for Turkish letters is not installed."""


@dataclass(frozen=True)
class PrintableForm:
    """Everything printed: identity from the registry, the completed draft."""

    reference: str
    institution_name: str
    tckn: TCKimlikNo
    first_name: str
    last_name: str
    birth_date: date = field(repr=False)
    form: FormDraft
    birth_place: str | None = None


def _font_paths(font_dir: Path) -> dict[str, Path]:
    paths = {style: font_dir / name for style, name in _FONT_FILES.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise FontMissingError(
            f"Font file(s) {', '.join(missing)} not found. Install the Debian package "
            "fonts-dejavu-core, or pass font_dir pointing at DejaVu Sans."
        )
    return paths


def _or_blank(value: object) -> str:
    return _NOT_GIVEN if value is None or value == "" else str(value)


def _address_text(address: DeliveryAddress | None) -> tuple[str, str, str]:
    if address is None:
        return _NOT_GIVEN, _NOT_GIVEN, _NOT_GIVEN
    street = "\n".join(line for line in (address.line1, address.line2) if line)
    return street, f"{address.district} / {address.city}", address.postal_code


def render_application_form(data: PrintableForm, font_dir: Path | str | None = None) -> bytes:
    """Render the form as an A4 PDF to be printed, signed by hand and forwarded."""
    from services.applications.adapters.form_pdf_layout import FormPdf  # fpdf2 only when drawing

    pdf = FormPdf(data.reference, Path(font_dir) if font_dir else DEFAULT_FONT_DIR)
    # Metadata is readable by any PDF tool: the reference only, no personal data.
    pdf.set_title(f"NES Başvuru Formu {data.reference}")
    pdf.set_creator("esign")
    pdf.add_page()
    form = data.form
    street, district_city, postal_code = _address_text(form.delivery_address)

    pdf.title_block(data.institution_name)

    pdf.section(1, "Kimlik Bilgileri", "Identity, as in the population registry")
    pdf.field_row("T.C. Kimlik No", "National ID number", data.tckn.value)
    pdf.field_row("Adı", "First name", data.first_name)
    pdf.field_row("Soyadı", "Last name", data.last_name)
    pdf.field_row("Doğum Yeri", "Place of birth", _or_blank(data.birth_place))
    pdf.field_row("Doğum Tarihi", "Date of birth", data.birth_date.strftime("%d.%m.%Y"))

    pdf.section(2, "Kurum ve İletişim Bilgileri", "Position and contact")
    pdf.field_row("Sicil No", "Staff registry number", _or_blank(form.registry_number))
    pdf.field_row("Birim", "Unit", _or_blank(form.unit))
    pdf.field_row("Unvan", "Title", _or_blank(form.title))
    pdf.field_row("Kurumsal E-posta", "Institutional e-mail", _or_blank(form.institutional_email))
    mobile = format_mobile(form.mobile) if form.mobile else _NOT_GIVEN
    pdf.field_row("Cep Telefonu", "Mobile phone (SMS)", mobile)

    pdf.section(3, "Teslimat Adresi", "Delivery address for the card")
    pdf.field_row("Adres", "Address", street)
    pdf.field_row("İlçe / İl", "District / City", district_city)
    pdf.field_row("Posta Kodu", "Postal code", postal_code)

    pdf.section(4, "Sertifika Bilgileri", "Certificate")
    validity = f"{form.validity_years} yıl / years" if form.validity_years else _NOT_GIVEN
    pdf.field_row("Geçerlilik Süresi", "Validity", validity)
    pdf.field_row("Kart Okuyucu", "Card reader", _or_blank(_CARD_READERS.get(form.card_reader_type)))
    pdf.field_row(
        "Mevcut Sertifika",
        "Existing certificate",
        _or_blank(_PRIOR_CERTIFICATE.get(form.prior_certificate_reason)),
    )
    if form.prior_certificate_note:
        pdf.field_row("Açıklama", "Explanation", form.prior_certificate_note)
    security_word = "Kayıtlı / on file" if form.security_word_set else _NOT_GIVEN
    pdf.field_row("Güvenlik Sözcüğü", "Security word", security_word)

    pdf.section(5, "Yayınlama İzni", "Publication consent")
    pdf.checkbox_statement(form.publish_consent is True, CONSENT_STATEMENT, CONSENT_STATEMENT_EN)

    pdf.section(6, "Taahhütname", "Commitment statement")
    pdf.commitment()
    pdf.signature_block(f"{data.first_name} {data.last_name}")
    return bytes(pdf.output())
