"""Two independent checks of a signed PDF, both trusting only the test root: pyHanko's validator,
and poppler's `pdfsig` (NSS, with a temporary certificate database made by `certutil`)."""

from __future__ import annotations

import subprocess
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


async def pyhanko_verdict(pdf: bytes, root: x509.Certificate, intermediate: x509.Certificate) -> dict:
    """pyHanko's view of the one signature: intact, trusted (chain to ``root``), whole file."""
    reader = PdfFileReader(BytesIO(pdf))
    [embedded] = reader.embedded_signatures
    context = ValidationContext(
        trust_roots=[_asn1(root)], other_certs=[_asn1(intermediate)], allow_fetching=False, revocation_mode="soft-fail"
    )
    status = await async_validate_pdf_signature(embedded, signer_validation_context=context)
    return {
        "intact": status.intact and status.valid,
        "trusted": status.trusted,
        "whole_file": status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        "signer": status.signing_cert.subject.human_friendly,
        "serial": status.signing_cert.serial_number,
    }


def pdfsig_output(pdf: bytes, root: x509.Certificate, intermediate: x509.Certificate, workdir: Path) -> str:
    """`pdfsig`'s report for the file, with an NSS database that trusts ``root`` and nothing else."""
    nss = workdir / "nssdb"
    nss.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    for name, cert, trust in (("test-root", root, "CT,C,C"), ("test-intermediate", intermediate, ",,")):
        pem = workdir / f"{name}.pem"
        pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nss}", "-n", name, "-t", trust, "-a", "-i", str(pem)],
            check=True,
            capture_output=True,
        )
    path = workdir / "signed.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr
