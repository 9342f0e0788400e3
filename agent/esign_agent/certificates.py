"""What the agent tells a page about a certificate read from the card.

The holder's TC Kimlik No comes from the subject's serialNumber attribute (layout
``SERIALNUMBER=<TC Kimlik No>, CN=<Name Surname>, C=TR``). It is personal data: it may go to the
page that asked (it needs it), but anything written to a log or a terminal goes through
:func:`mask_tckn`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .protocol import b64

# Curves the ECDSA_SHA256 mechanism is offered for.
SUPPORTED_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384"}

# cryptography's attribute -> the name pages see (RFC 5280's, in snake case).
_KEY_USAGE_NAMES = {
    "digital_signature": "digital_signature",
    "content_commitment": "non_repudiation",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "key_cert_sign": "key_cert_sign",
    "crl_sign": "crl_sign",
}


def is_valid_tckn(value: str) -> bool:
    """TC Kimlik No checksum: 11 digits, first not 0, digits 10 and 11 are check digits."""
    if len(value) != 11 or not value.isascii() or not value.isdigit() or value[0] == "0":
        return False
    d = [int(c) for c in value]
    # Python's % is never negative for a positive modulus, so no sign fix-up is needed.
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return d[9] == d10 and d[10] == sum(d[:10]) % 10


def mask_tckn(value: str | None) -> str:
    """``10000000146`` -> ``100******46``; anything else is masked whole."""
    if not value:
        return "-"
    if len(value) != 11:
        return "*" * len(value)
    return f"{value[:3]}{'*' * 6}{value[-2:]}"


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    return str(attrs[0].value) if attrs else None


@dataclass(frozen=True)
class CertificateInfo:
    der: bytes
    fingerprint: str  # SHA-256 of the DER, lowercase hex: the handle pages sign with
    holder_name: str | None
    tc_kimlik_no: str | None
    subject: str
    issuer: str
    issuer_name: str | None
    serial_number: str
    not_before: datetime
    not_after: datetime
    key_usage: tuple[str, ...]
    key_type: str  # "RSA" or "EC"
    key_size: int
    curve: str | None  # "P-256", "P-384", another curve's name, or None for RSA

    @classmethod
    def from_der(cls, der: bytes) -> CertificateInfo:
        cert = x509.load_der_x509_certificate(der)
        serial_attr = _first(cert.subject, NameOID.SERIAL_NUMBER)
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            key_type, key_size, curve = "RSA", key.key_size, None
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key_type, key_size = "EC", key.key_size
            curve = SUPPORTED_CURVES.get(key.curve.name, key.curve.name)
        else:
            key_type, key_size, curve = type(key).__name__, 0, None
        return cls(
            der=der,
            fingerprint=hashlib.sha256(der).hexdigest(),
            holder_name=_first(cert.subject, NameOID.COMMON_NAME),
            tc_kimlik_no=serial_attr if serial_attr and is_valid_tckn(serial_attr) else None,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            issuer_name=_first(cert.issuer, NameOID.COMMON_NAME),
            serial_number=format(cert.serial_number, "x"),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            key_usage=_key_usage(cert),
            key_type=key_type,
            key_size=key_size,
            curve=curve,
        )

    def to_json(self, mechanisms: list[str]) -> dict[str, object]:
        return {
            "fingerprint": self.fingerprint,
            "der": b64(self.der),
            "holder_name": self.holder_name,
            "tc_kimlik_no": self.tc_kimlik_no,
            "subject": self.subject,
            "issuer": self.issuer,
            "issuer_name": self.issuer_name,
            "serial_number": self.serial_number,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "key_usage": list(self.key_usage),
            "key_type": self.key_type,
            "key_size": self.key_size,
            "curve": self.curve,
            "mechanisms": mechanisms,
        }


def _key_usage(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(wire for attr, wire in _KEY_USAGE_NAMES.items() if getattr(usage, attr))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
