"""Is this card certificate one we may believe, and did its key make this signature?

Chain, validity and revocation are pyhanko-certvalidator's job (RFC 5280 path validation), with
the trust anchors and intermediates read from a directory of PEM/DER files and CRLs from another.
Revocation: ``offline`` uses only the configured CRL files (local runs, tests, air-gapped
replicas that receive CRLs by file); ``online`` also fetches CRLs and OCSP named in the
certificates. Either way a certificate whose status cannot be established is refused.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

from services.applications.domain.renewal import CertificateRefused, SignatureInvalid


class Mechanism(enum.StrEnum):
    """The agent's signing mechanisms (docs/agent-protocol.md): each hashes the data itself."""

    RSA_PKCS1_SHA256 = "RSA_PKCS1_SHA256"
    RSA_PSS_SHA256 = "RSA_PSS_SHA256"
    ECDSA_SHA256 = "ECDSA_SHA256"


def verify_card_signature(certificate: x509.Certificate, mechanism: Mechanism, data: bytes, signature: bytes) -> None:
    """Raises SignatureInvalid unless ``signature`` is the certificate key's signature of ``data``."""
    key = certificate.public_key()
    try:
        if mechanism is Mechanism.ECDSA_SHA256 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif mechanism is Mechanism.RSA_PKCS1_SHA256 and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif mechanism is Mechanism.RSA_PSS_SHA256 and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        else:
            raise SignatureInvalid("The mechanism does not fit the certificate's key.")
    except InvalidSignature:
        raise SignatureInvalid("The signature was not made with this certificate's key over these bytes.") from None


def _read_objects(directory: Path | None, pem_type: str) -> list[bytes]:
    if directory is None or not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if pem.detect(raw):
            found += [der for kind, _, der in pem.unarmor(raw, multiple=True) if kind == pem_type]
        else:
            found.append(raw)
    return found


class RevocationSource(enum.StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"


class TrustStore:
    """Anchors (self-signed), intermediates and CRLs, read from directories. CRLs are re-read when
    a file in their directory changes: the operator (or a cron job) drops fresh ones in place."""

    def __init__(
        self,
        trust_dir: Path | None,
        crl_dir: Path | None,
        revocation: RevocationSource = RevocationSource.OFFLINE,
    ) -> None:
        certs = [asn1_x509.Certificate.load(der) for der in _read_objects(trust_dir, "CERTIFICATE")]
        self.roots = tuple(c for c in certs if c.self_issued)
        self.intermediates = tuple(c for c in certs if not c.self_issued)
        self.revocation = revocation
        self._crl_dir = crl_dir
        self._crl_stamp: tuple | None = None
        self._crls: tuple[asn1_crl.CertificateList, ...] = ()

    @property
    def crls(self) -> tuple[asn1_crl.CertificateList, ...]:
        directory = self._crl_dir
        stamp = (
            tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in directory.iterdir()))
            if directory is not None and directory.is_dir()
            else ()
        )
        if stamp != self._crl_stamp:
            self._crls = tuple(asn1_crl.CertificateList.load(der) for der in _read_objects(directory, "X509 CRL"))
            self._crl_stamp = stamp
        return self._crls

    def context(self, moment: datetime, *, extra_certs: Iterable[asn1_x509.Certificate] = ()) -> ValidationContext:
        online = self.revocation is RevocationSource.ONLINE
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=[*self.intermediates, *extra_certs],
            crls=list(self.crls),
            moment=moment,
            allow_fetching=online,
            # hard-fail: a certificate whose revocation status cannot be established is refused.
            revocation_mode="hard-fail",
        )

    def check(self, certificate_der: bytes, moment: datetime) -> None:
        """Raises CertificateRefused with the contract's code, in the contract's order."""
        cert = asn1_x509.Certificate.load(certificate_der)
        validator = CertificateValidator(cert, validation_context=self.context(moment))
        try:
            _run_sync(validator.async_validate_usage({"non_repudiation"}))
        except PathBuildingError:
            raise CertificateRefused(
                "certificate_untrusted", "The certificate does not lead to a trusted CA."
            ) from None
        except ExpiredError:
            raise CertificateRefused(
                "certificate_expired", "The certificate has expired: a first application is needed."
            ) from None
        except NotYetValidError:
            raise CertificateRefused("certificate_not_yet_valid", "The certificate is not valid yet.") from None
        except RevokedError:
            raise CertificateRefused("certificate_revoked", "The certificate has been revoked.") from None
        except InvalidCertificateError as exc:
            if "purpose" in str(exc):
                raise CertificateRefused(
                    "certificate_key_usage", "The certificate is not for qualified signatures (non-repudiation)."
                ) from None
            raise CertificateRefused("certificate_untrusted", "The certificate is not valid.") from None
        except (PathValidationError, ValidationError):
            raise CertificateRefused(
                "certificate_untrusted", "The certificate's chain or revocation status cannot be established."
            ) from None


def _run_sync(coroutine):
    """certvalidator is async; checks run in a worker thread (off the event loop), so a private
    loop per call is fine there."""
    return asyncio.run(coroutine)
