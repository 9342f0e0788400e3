"""The renewal request PDF and its PAdES signature made by the holder's card, with pyHanko's
interrupted signing: the server prepares the PDF and the CMS signed attributes, the card signs
their DER (through the agent, in the holder's browser), the server embeds the signature.

``prepare`` returns everything ``finish`` needs as plain bytes and numbers, so the prepared
state can live in PostgreSQL and another replica can finish it. ``finish`` refuses a signature
that the certificate's key did not make over exactly the stored attributes, and ``validate``
checks the finished file the way a relying party would (intact, trusted, whole file covered,
non-repudiation).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.applications.adapters.form_pdf import DEFAULT_FONT_DIR
from services.applications.adapters.trust import Mechanism, TrustStore, verify_card_signature
from services.applications.domain.form import DeliveryAddress
from services.applications.domain.renewal import SignatureInvalid

FIELD_NAME = "EOnay"
# Room for the CMS in the PDF, counted in hex digits (twice its DER). B-B: the signed attributes,
# an RSA-4096 signature and the signer's certificate with two CA certificates fit in 4 KiB of DER.
# With a timestamp (B-T) the TSA's token and certificates need more. Kept tight on purpose:
# validators read the hex string digit by digit, so every reserved byte costs at each check.
BYTES_RESERVED = 8_192
BYTES_RESERVED_WITH_TIMESTAMP = 32_768
_PLACEHOLDER_SIGNATURE = 512  # bytes: the longest raw signature we accept (RSA-4096)

_SIGNATURE_ALGORITHMS = {
    Mechanism.RSA_PKCS1_SHA256: algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
    Mechanism.RSA_PSS_SHA256: algos.SignedDigestAlgorithm(
        {
            "algorithm": "rsassa_pss",
            "parameters": algos.RSASSAPSSParams(
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
                    "salt_length": 32,
                }
            ),
        }
    ),
    Mechanism.ECDSA_SHA256: algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
}

REQUEST_TITLE = "NİTELİKLİ ELEKTRONİK SERTİFİKA YENİLEME TALEBİ"
REQUEST_TITLE_EN = "Request to renew a qualified electronic certificate"
APPROVAL_STATEMENT = (
    "Yukarıdaki bilgilerle sertifikamın yenilenmesini talep ediyor, bu talebi mevcut nitelikli "
    "elektronik sertifikamla e-onaylıyorum. Yeni sertifikam, mevcut sertifikamın geçerliliği "
    "bittiğinde kullanılabilir olacaktır."
)
APPROVAL_STATEMENT_EN = (
    "I ask for my certificate to be renewed with the details above and e-approve this request "
    "with my current qualified certificate. The new certificate becomes usable when the current one ends."
)


@dataclass(frozen=True)
class RenewalRequest:
    """What the holder approves; the nonce binds the signed document to this renewal."""

    renewal_id: str
    institution_name: str
    first_name: str
    last_name: str
    tckn_masked: str
    title: str
    unit: str
    institutional_email: str
    mobile: str
    delivery_address: DeliveryAddress
    validity_years: int
    old_serial: str
    old_not_after: date
    new_not_before: date
    approval_nonce: str


def render_renewal_request(request: RenewalRequest, font_dir: Path | None = None) -> bytes:
    from services.applications.adapters.form_pdf_layout import RequestPdf  # fpdf2 only when drawing

    pdf = RequestPdf(request.renewal_id, font_dir or DEFAULT_FONT_DIR)
    pdf.set_title(f"NES Yenileme Talebi {request.renewal_id}")  # metadata: the reference only
    pdf.set_creator("esign")
    pdf.add_page()
    pdf.title_block(request.institution_name)
    pdf.section(1, "Sertifika Sahibi", "Holder")
    pdf.field_row("Adı Soyadı", "Name", f"{request.first_name} {request.last_name}")
    pdf.field_row("T.C. Kimlik No", "National ID number", request.tckn_masked)
    pdf.field_row("Unvan", "Title", request.title)
    pdf.field_row("Birim", "Unit", request.unit)
    pdf.field_row("Kurumsal E-posta", "Institutional e-mail", request.institutional_email)
    pdf.field_row("Cep Telefonu", "Mobile phone", request.mobile)
    a = request.delivery_address
    street = "\n".join(line for line in (a.line1, a.line2) if line)
    pdf.section(2, "Teslimat Adresi", "Delivery address")
    pdf.field_row("Adres", "Address", street)
    pdf.field_row("İlçe / İl", "District / City", f"{a.district} / {a.city}")
    pdf.field_row("Posta Kodu", "Postal code", a.postal_code)
    pdf.section(3, "Sertifika", "Certificate")
    pdf.field_row("Geçerlilik Süresi", "Validity", f"{request.validity_years} yıl / years")
    pdf.field_row("Mevcut Sertifika Seri No", "Current certificate serial", request.old_serial)
    pdf.field_row("Mevcut Sertifika Bitişi", "Current certificate ends", request.old_not_after.strftime("%d.%m.%Y"))
    pdf.field_row("Yeni Sertifika Başlangıcı", "New certificate starts", request.new_not_before.strftime("%d.%m.%Y"))
    pdf.section(4, "E-Onay", "E-approval")
    pdf._font(9)
    pdf.paragraph(APPROVAL_STATEMENT, 4.5)
    pdf._font(8, colour=(110, 110, 110))
    pdf.paragraph(APPROVAL_STATEMENT_EN, 4)
    pdf.ln(2)
    pdf.field_row("Onay Kodu", "Approval nonce", request.approval_nonce)
    return bytes(pdf.output())


@dataclass(frozen=True)
class Prepared:
    pdf: bytes  # the document with the placeholder for the signature
    signed_attributes: bytes  # DER, SET OF: exactly what the card signs
    document_digest: bytes
    reserved_start: int
    reserved_end: int


def _signer(certificate_der: bytes, chain: list[asn1_x509.Certificate], mechanism: Mechanism, value) -> signers.Signer:
    return signers.ExternalSigner(
        signing_cert=asn1_x509.Certificate.load(certificate_der),
        cert_registry=SimpleCertificateStore.from_certs(chain),
        signature_value=value,
        signature_mechanism=_SIGNATURE_ALGORITHMS[mechanism],
    )


async def prepare(
    pdf: bytes,
    *,
    certificate_der: bytes,
    chain: list[asn1_x509.Certificate],
    mechanism: Mechanism,
    with_timestamp: bool = False,
) -> Prepared:
    signer = _signer(certificate_der, chain, mechanism, _PLACEHOLDER_SIGNATURE)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,  # PAdES: no signing-time attribute is written
        reason="Sertifika yenileme e-onayı / Renewal e-approval",
    )
    prepared, _, output = await signers.PdfSigner(meta, signer=signer).async_digest_doc_for_signing(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        bytes_reserved=BYTES_RESERVED_WITH_TIMESTAMP if with_timestamp else BYTES_RESERVED,
    )
    attributes = await signer.signed_attrs(prepared.document_digest, "sha256", use_pades=True)
    return Prepared(
        pdf=output.getvalue(),  # type: ignore[attr-defined]  # the BytesIO pyHanko wrote the document to
        signed_attributes=attributes.dump(),
        document_digest=prepared.document_digest,
        reserved_start=prepared.reserved_region_start,
        reserved_end=prepared.reserved_region_end,
    )


async def finish(
    prepared: Prepared,
    *,
    certificate_der: bytes,
    chain: list[asn1_x509.Certificate],
    mechanism: Mechanism,
    signature: bytes,
    tsa_url: str | None = None,
) -> bytes:
    """The signed PDF; SignatureInvalid unless the certificate's key signed exactly the stored
    attributes (checked before anything is embedded)."""
    verify_card_signature(
        x509.load_der_x509_certificate(certificate_der), mechanism, prepared.signed_attributes, signature
    )
    signer = _signer(certificate_der, chain, mechanism, signature)
    container = await signer.async_sign_prescribed_attributes(
        "sha256",
        signed_attrs=cms.CMSAttributes.load(prepared.signed_attributes),
        # B-T: a signature timestamp (an unsigned attribute: the card's signature is unaffected).
        timestamper=HTTPTimeStamper(tsa_url) if tsa_url else None,
    )
    output = BytesIO(prepared.pdf)
    await PdfTBSDocument.async_finish_signing(
        output,
        PreparedByteRangeDigest(prepared.document_digest, prepared.reserved_start, prepared.reserved_end),
        container,
    )
    return output.getvalue()


def _name(cert: asn1_x509.Certificate) -> str:
    return cert.subject.human_friendly


async def validate(signed_pdf: bytes, trust: TrustStore, *, at: datetime) -> dict:
    """The validation report the operator sees; raises SignatureInvalid if the file is not one
    signature over the whole document by a trusted, non-repudiation certificate."""
    signatures = PdfFileReader(BytesIO(signed_pdf)).embedded_signatures  # parses: read once
    if len(signatures) != 1:
        raise SignatureInvalid("The document must carry exactly one signature.", status=422)
    embedded = signatures[0]
    status = await async_validate_pdf_signature(
        embedded,
        signer_validation_context=trust.context(at),
        key_usage_settings=KeyUsageConstraints(key_usage={"non_repudiation"}),
    )
    cert = status.signing_cert
    report = {
        "signer_subject": _name(cert),
        "signer_serial": format(cert.serial_number, "X"),
        "chain": [_name(c) for c in status.validation_path] if status.validation_path else [],
        "signed_at": at.isoformat(),
        "intact": bool(status.intact and status.valid),
        "trusted": bool(status.trusted),
        "covers_whole_file": status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        "key_usage_ok": "non_repudiation" in (cert.key_usage_value.native if cert.key_usage_value else set()),
        "pades_subfilter": str(embedded.sig_object.get("/SubFilter")),
        "document_sha256": hashlib.sha256(signed_pdf).hexdigest(),
    }
    if not all(report[k] for k in ("intact", "trusted", "covers_whole_file", "key_usage_ok")):
        raise SignatureInvalid("The signed document does not validate.", status=422, report=report)
    return report


def run(coroutine):
    """pyHanko's calls are CPU-bound; handlers run them in a thread with their own loop."""
    return asyncio.run(coroutine)
