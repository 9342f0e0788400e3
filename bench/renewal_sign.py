"""Renewal e-approval cost: what the server does per renewal (check the certificate, prepare the
PAdES signature, verify the card's raw signature, embed it, validate the finished PDF) against
pyHanko signing the same PDF locally with the same SoftHSM2 key, in the same run. Both sides
include the one card operation (a SoftHSM2 sign in an open, logged-in session), so the ratio is
the price of splitting the signature across the network and checking it, not of the card.

    .venv/bin/python bench/renewal_sign.py [--rounds 50]

Prints both medians, their ratio (target: at most 1.5) and verified renewals per second on one
core (this process is single-threaded: pyHanko's work is CPU-bound Python). Rendering the
request PDF is the same for both and printed apart. Rounds alternate between the two so drift
hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import date, datetime, timezone
from io import BytesIO
from pathlib import Path

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from esign_agent.softhsm import build_in_subprocess
from pkcs11 import Attribute, ObjectClass
from pkcs11 import Mechanism as P11Mechanism
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.pkcs11 import PKCS11Signer

from services.applications.adapters import pades
from services.applications.adapters.trust import Mechanism, TrustStore
from services.applications.domain.form import DeliveryAddress

KEY_LABEL = "rsa-2048"
PIN = "123456"


def request() -> pades.RenewalRequest:
    return pades.RenewalRequest(
        renewal_id=str(uuid.uuid4()),
        institution_name="Örnek Üniversitesi",
        first_name="Çağrı",
        last_name="Işıkoğlu Şenöz",
        tckn_masked="100******46",
        title="Dr. Öğr. Üyesi",
        unit="Bilgi İşlem Daire Başkanlığı",
        institutional_email="cagri@ornek.edu.tr",
        mobile="+905321234567",
        delivery_address=DeliveryAddress("Üniversite Cad. No: 1", "Çankaya", "Ankara", "06800"),
        validity_years=3,
        old_serial="7F:01:AA",
        old_not_after=date(2027, 1, 10),
        new_not_before=date(2027, 1, 10),
        approval_nonce="0" * 64,
    )


class Card:
    """The SoftHSM2 token, logged in once (as a card is for the length of one approval)."""

    def __init__(self, manifest: dict) -> None:
        token_spec = manifest["tokens"][0]
        os.environ["SOFTHSM2_CONF"] = manifest["conf"]  # before the module is loaded
        self.lib = pkcs11.lib(manifest["module"])
        self.session = self.lib.get_token(token_label=token_spec["label"]).open(user_pin=PIN)
        self.key = self.session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=KEY_LABEL)
        cert_obj = next(
            self.session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: KEY_LABEL})
        )
        self.der = bytes(cert_obj[Attribute.VALUE])

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data, mechanism=P11Mechanism.SHA256_RSA_PKCS)


async def server_renewal(pdf: bytes, card: Card, trust: TrustStore) -> dict:
    """As handlers/renewal.py runs it: CPU-bound steps in a worker thread with their own loop."""
    now = datetime.now(timezone.utc)
    await asyncio.to_thread(trust.check, card.der, now)
    prepared = await asyncio.to_thread(
        pades.run, pades.prepare(pdf, certificate_der=card.der, chain=[], mechanism=Mechanism.RSA_PKCS1_SHA256)
    )
    signature = card.sign(prepared.signed_attributes)  # in reality: the agent, in the holder's browser

    async def finish_and_validate() -> dict:
        signed = await pades.finish(
            prepared, certificate_der=card.der, chain=[], mechanism=Mechanism.RSA_PKCS1_SHA256, signature=signature
        )
        return await pades.validate(signed, trust, at=now)

    return await asyncio.to_thread(pades.run, finish_and_validate())


async def local_pyhanko(pdf: bytes, card: Card) -> bytes:
    signer = PKCS11Signer(card.session, cert_label=KEY_LABEL, key_label=KEY_LABEL)
    meta = signers.PdfSignatureMetadata(
        field_name=pades.FIELD_NAME, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES
    )
    out = await signers.PdfSigner(meta, signer=signer).async_sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)), bytes_reserved=pades.BYTES_RESERVED
    )
    return out.getvalue()


async def run(rounds: int, workdir: Path) -> dict:
    manifest = build_in_subprocess(workdir / "card")
    (workdir / "trust").mkdir()
    root = x509.load_der_x509_certificate(bytes.fromhex(manifest["ca"]))
    (workdir / "trust" / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    trust = TrustStore(workdir / "trust", None)
    card = Card(manifest)
    assert asn1_x509.Certificate.load(card.der).subject.native["common_name"]

    render_times, server_times, local_times = [], [], []
    for i in range(rounds + 2):  # the first two rounds warm caches and imports
        t0 = time.perf_counter()
        pdf = pades.render_renewal_request(request())
        t1 = time.perf_counter()
        report = await server_renewal(pdf, card, trust)
        t2 = time.perf_counter()
        await local_pyhanko(pdf, card)
        t3 = time.perf_counter()
        if i >= 2:
            render_times.append(t1 - t0)
            server_times.append(t2 - t1)
            local_times.append(t3 - t2)
        assert report["intact"] and report["trusted"] and report["covers_whole_file"]
    card.session.close()
    server, local = statistics.median(server_times), statistics.median(local_times)
    return {
        "rounds": rounds,
        "render_ms": statistics.median(render_times) * 1000,
        "server_ms": server * 1000,
        "local_ms": local * 1000,
        "ratio": server / local,
        "renewals_per_s": 1 / server,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="renewal-bench-") as d:
        result = asyncio.run(run(args.rounds, Path(d)))
    print(f"rounds                          {result['rounds']}")
    print(f"render request PDF (both)       {result['render_ms']:8.1f} ms")
    print(f"server: check+prepare+finish+validate {result['server_ms']:8.1f} ms")
    print(f"local pyHanko sign              {result['local_ms']:8.1f} ms")
    print(f"ratio server/local              {result['ratio']:8.2f}  (target <= 1.5)")
    print(f"verified renewals/s, one core   {result['renewals_per_s']:8.1f}")


if __name__ == "__main__":
    main()
