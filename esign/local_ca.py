"""A local test certification authority: a root, an intermediate, a CRL, and holder certificates
laid out like a Kamu SM qualified certificate (``SERIALNUMBER=<TC Kimlik No>, CN=<Name Surname>,
C=TR``, digitalSignature + nonRepudiation, the QC statements of DOMAIN.md).

DEV AND TEST ONLY. Its private keys sit unencrypted in its directory. ``esign up`` keeps one in
its data directory as the trust anchor of local runs; the test suite makes its own. Production
never uses this module: it configures the real CA's roots and intermediates (docs/renewal.md).

Directory layout (what ``ESIGN_APPLICATIONS_RENEWAL_TRUST_DIR`` / ``..._CRL_DIR`` point at):
``trust/root.pem``, ``trust/intermediate.pem``, ``crl/intermediate.crl`` and, beside them,
``private/*.key.pem`` and ``revoked.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from asn1crypto import core as asn1
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# ETSI QcCompliance and the Turkish qualified-certificate statement (DOMAIN.md).
QC_STATEMENT_IDS = ("0.4.0.1862.1.1", "2.16.792.1.61.0.1.5070.1.1")
QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def qc_statements() -> x509.UnrecognizedExtension:
    """QCStatements ::= SEQUENCE OF SEQUENCE { statementId OID } (RFC 3739)."""

    class _Statement(asn1.Sequence):
        _fields = [("statement_id", asn1.ObjectIdentifier)]  # noqa: RUF012 (asn1crypto declares fields so)

    class _Statements(asn1.SequenceOf):
        _child_spec = _Statement

    der = _Statements([_Statement({"statement_id": oid}) for oid in QC_STATEMENT_IDS]).dump()
    return x509.UnrecognizedExtension(QC_STATEMENTS_OID, der)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "esign yerel test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def holder_name(tckn: str, full_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.SERIAL_NUMBER, tckn),
            x509.NameAttribute(NameOID.COMMON_NAME, full_name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
        ]
    )


def _key_usage(*, digital_signature: bool, non_repudiation: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _ca_cert(
    *, subject: x509.Name, issuer: x509.Name, public_key: PublicKey, signer: SigningKey, path_length: int
) -> x509.Certificate:
    now = _utcnow()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(digital_signature=False, non_repudiation=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(signer, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: SigningKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class LocalCA:
    directory: Path
    root: x509.Certificate
    root_key: SigningKey
    intermediate: x509.Certificate
    intermediate_key: SigningKey

    @property
    def trust_dir(self) -> Path:
        return self.directory / "trust"

    @property
    def crl_dir(self) -> Path:
        return self.directory / "crl"

    # ------------------------------------------------------------------ life cycle

    @classmethod
    def create(cls, directory: Path, *, label: str = "esign yerel test") -> LocalCA:
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(f"{label} Kök Sertifika Makamı")
        root = _ca_cert(
            subject=root_name, issuer=root_name, public_key=root_key.public_key(), signer=root_key, path_length=1
        )
        intermediate_key = ec.generate_private_key(ec.SECP256R1())
        intermediate = _ca_cert(
            subject=_name(f"{label} NES Hizmet Sağlayıcısı"),
            issuer=root_name,
            public_key=intermediate_key.public_key(),
            signer=root_key,
            path_length=0,
        )
        ca = cls(directory, root, root_key, intermediate, intermediate_key)
        ca._save()
        return ca

    @classmethod
    def load(cls, directory: Path) -> LocalCA:
        def key(name: str) -> Any:
            return serialization.load_pem_private_key((directory / "private" / name).read_bytes(), None)

        return cls(
            directory,
            x509.load_pem_x509_certificate((directory / "trust" / "root.pem").read_bytes()),
            key("root.key.pem"),
            x509.load_pem_x509_certificate((directory / "trust" / "intermediate.pem").read_bytes()),
            key("intermediate.key.pem"),
        )

    @classmethod
    def open_or_create(cls, directory: Path) -> LocalCA:
        if (directory / "trust" / "root.pem").exists():
            return cls.load(directory)
        return cls.create(directory)

    def _save(self) -> None:
        for sub in ("trust", "crl", "private"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        (self.directory / "private").chmod(0o700)
        (self.trust_dir / "root.pem").write_bytes(_pem(self.root))
        (self.trust_dir / "intermediate.pem").write_bytes(_pem(self.intermediate))
        (self.directory / "private" / "root.key.pem").write_bytes(_key_pem(self.root_key))
        (self.directory / "private" / "intermediate.key.pem").write_bytes(_key_pem(self.intermediate_key))
        if not (self.directory / "revoked.json").exists():
            (self.directory / "revoked.json").write_text("{}")
        self.write_crl()

    # ------------------------------------------------------------------ holders

    def issue_holder(
        self,
        public_key: PublicKey,
        *,
        full_name: str,
        tckn: str,
        serial: int | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        non_repudiation: bool = True,
    ) -> x509.Certificate:
        """A holder certificate. ``serial`` lets a local card carry the serial the operator
        recorded at production, so the platform finds it on record."""
        not_before = not_before or _utcnow() - timedelta(days=1)
        not_after = not_after or not_before + timedelta(days=3 * 365)
        return (
            x509.CertificateBuilder()
            .subject_name(holder_name(tckn, full_name))
            .issuer_name(self.intermediate.subject)
            .public_key(public_key)
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(_key_usage(digital_signature=True, non_repudiation=non_repudiation, ca=False), critical=True)
            .add_extension(qc_statements(), critical=False)
            .add_extension(self.crl_distribution_point(), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()), critical=False
            )
            .sign(self.intermediate_key, hashes.SHA256())
        )

    def crl_distribution_point(self) -> x509.CRLDistributionPoints:
        """Where relying parties find the CRL. Nothing serves it: local runs and tests read the
        CRL file (offline revocation), but a certificate must say that one exists, else a
        validator has no revocation to check (as with the real CA's certificates, which do)."""
        url = f"http://crl.esign.invalid/{self.intermediate.serial_number:x}.crl"
        return x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
        )

    def revoke(self, certificate: x509.Certificate, *, at: datetime | None = None) -> None:
        revoked = json.loads((self.directory / "revoked.json").read_text())
        revoked[str(certificate.serial_number)] = (at or _utcnow()).isoformat()
        (self.directory / "revoked.json").write_text(json.dumps(revoked))
        self.write_crl()

    def write_crl(self) -> Path:
        """The intermediate's CRL (valid a week) listing every revoked holder certificate."""
        now = _utcnow()
        revoked = json.loads((self.directory / "revoked.json").read_text())
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.intermediate.subject)
            .last_update(now - timedelta(minutes=5))
            .next_update(now + timedelta(days=7))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()), critical=False
            )
        )
        for serial, at in revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial))
                .revocation_date(datetime.fromisoformat(at))
                .build()
            )
        path = self.crl_dir / "intermediate.crl"
        path.write_bytes(builder.sign(self.intermediate_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
        return path
