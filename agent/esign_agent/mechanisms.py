"""From a protocol mechanism name to the PKCS#11 call that implements it on a given card.

Every protocol mechanism hashes the data with SHA-256. Cards differ in what they offer: some
hash on the card (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA256), many smart cards and SoftHSM2 only
offer the raw operation (CKM_RSA_PKCS, CKM_ECDSA) and expect the host to hash. The page must not
care, so the plan prefers the card's combined mechanism and falls back to hashing here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import MGF

from .certificates import SUPPORTED_CURVES, CertificateInfo
from .protocol import AgentError, ErrorCode, Mechanism

M = pkcs11.Mechanism
# DER of DigestInfo{sha256, NULL} up to the digest (RFC 8017, section 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
# PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt: what CAdES/PAdES verifiers expect.
_PSS_PARAMS = (M.SHA256, MGF.SHA256, 32)

# protocol mechanism -> (key type, [(PKCS#11 mechanism, params, hash on host), ...] by preference)
_CANDIDATES: dict[Mechanism, tuple[str, tuple[tuple[M, Any, bool], ...]]] = {
    Mechanism.RSA_PKCS1_SHA256: (
        "RSA",
        ((M.SHA256_RSA_PKCS, None, False), (M.RSA_PKCS, None, True)),
    ),
    Mechanism.RSA_PSS_SHA256: (
        "RSA",
        ((M.SHA256_RSA_PKCS_PSS, _PSS_PARAMS, False), (M.RSA_PKCS_PSS, _PSS_PARAMS, True)),
    ),
    Mechanism.ECDSA_SHA256: ("EC", ((M.ECDSA_SHA256, None, False), (M.ECDSA, None, True))),
}


@dataclass(frozen=True)
class SignPlan:
    name: Mechanism
    mechanism: M
    param: Any
    prehash: bool

    def payload(self, data: bytes) -> bytes:
        """What to hand the card for ``data``."""
        if not self.prehash:
            return data
        digest = hashlib.sha256(data).digest()
        if self.mechanism == M.RSA_PKCS:
            return _SHA256_DIGEST_INFO + digest
        return digest

    def finish(self, raw: bytes) -> bytes:
        """The card's output as the protocol returns it (ECDSA: DER, not PKCS#11's r||s)."""
        if self.name is not Mechanism.ECDSA_SHA256:
            return raw
        half = len(raw) // 2
        r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        return encode_dss_signature(r, s)


def plan(name: Mechanism, cert: CertificateInfo, available: Collection[M]) -> SignPlan:
    key_type, candidates = _CANDIDATES[name]
    if cert.key_type != key_type or (key_type == "EC" and cert.curve not in SUPPORTED_CURVES.values()):
        raise AgentError(
            ErrorCode.MECHANISM_NOT_SUPPORTED,
            f"{name} does not apply to this certificate's key ({cert.key_type} {cert.curve or cert.key_size}).",
        )
    for mechanism, param, prehash in candidates:
        if mechanism in available:
            return SignPlan(name, mechanism, param, prehash)
    raise AgentError(ErrorCode.MECHANISM_NOT_SUPPORTED, f"The card does not offer {name}.")


def usable(cert: CertificateInfo, available: Collection[M]) -> list[str]:
    """Protocol mechanisms that would work for this certificate's key on this card."""
    names = []
    for name in Mechanism:
        try:
            plan(name, cert, available)
        except AgentError:
            continue
        names.append(name.value)
    return names
