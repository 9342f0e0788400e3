"""A throw-away SoftHSM2 "card" for tests, the benchmark and trying the agent without a card.

``python -m esign_agent.softhsm DIR`` creates, under DIR, a SoftHSM2 configuration and tokens
holding keys generated on the token and certificates from a test CA, laid out like a Kamu SM
NES certificate (``SERIALNUMBER=<TC Kimlik No>, CN=<name>, C=TR``, digitalSignature +
nonRepudiation, QC statements). It prints a JSON manifest; point ``SOFTHSM2_CONF`` at the
``conf`` it names and run the agent with ``--card-type softhsm``.

Run it in its own process (as ``__main__`` does): SoftHSM2 only sees tokens that existed when
a process initialised it, so the process that will use the tokens should start after this one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from .presets import card_types

# ETSI QcCompliance and the Turkish qualified-certificate statement (DOMAIN.md).
QC_STATEMENT_IDS = ("0.4.0.1862.1.1", "2.16.792.1.61.0.1.5070.1.1")
QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")


@dataclass(frozen=True)
class KeySpec:
    name: str
    key_type: str  # "RSA" or "EC"
    size_or_curve: int | str
    on_token: bool = True  # False: a certificate without its private key on the card


@dataclass(frozen=True)
class TokenSpec:
    label: str
    holder_name: str
    tc_kimlik_no: str
    keys: tuple[KeySpec, ...]
    pin: str = "123456"
    so_pin: str = "12345678"


DEFAULT_TOKENS = (
    TokenSpec(
        "esign-test",
        "Çağrı Işıkoğlu Şenöz",
        "10000000146",
        (
            KeySpec("rsa-2048", "RSA", 2048),
            KeySpec("ec-p256", "EC", "secp256r1"),
            KeySpec("ec-p384", "EC", "secp384r1"),
            KeySpec("orphan", "EC", "secp256r1", on_token=False),
        ),
    ),
    # A second card: for anything that needs two (removal, one card busy while another signs).
    TokenSpec("esign-spare", "Gülşen Öztürk", "17291716060", (KeySpec("ec-p256", "EC", "secp256r1"),)),
)


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + body


def _der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def qc_statements() -> x509.UnrecognizedExtension:
    """QCStatements ::= SEQUENCE OF SEQUENCE { statementId OID } (RFC 3739); cryptography
    has no class for it, so it is encoded here."""
    body = b"".join(_der(0x30, _der_oid(oid)) for oid in QC_STATEMENT_IDS)
    return x509.UnrecognizedExtension(QC_STATEMENTS_OID, _der(0x30, body))


class DemoCA:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "esign test"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Test Elektronik Sertifika Hizmet Sağlayıcısı"),
            ]
        )
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, public_key: Any, holder_name: str, tc_kimlik_no: str) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.SERIAL_NUMBER, tc_kimlik_no),
                x509.NameAttribute(NameOID.COMMON_NAME, holder_name),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "TR"),
            ]
        )
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=True,  # nonRepudiation
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3 * 365))
            .add_extension(usage, critical=True)
            .add_extension(qc_statements(), critical=False)
            .sign(self.key, hashes.SHA256())
        )


def _softhsm_module() -> str:
    (softhsm,) = card_types(("softhsm",), {})
    path = softhsm.module_path()
    if path is None:
        raise SystemExit("SoftHSM2 is not installed (Debian: apt install softhsm2)")
    return path


def _generate_on_token(session: Any, spec: KeySpec, key_id: bytes) -> Any:
    """Generate the key pair on the token; return its public key as a cryptography object."""
    private = {Attribute.SIGN: True, Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
    if spec.key_type == "RSA":
        pub, _ = session.generate_keypair(
            KeyType.RSA,
            spec.size_or_curve,
            id=key_id,
            label=spec.name,
            store=True,
            private_template=private,
        )
        return rsa.RSAPublicNumbers(
            int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(pub[Attribute.MODULUS], "big"),
        ).public_key()
    params = session.create_domain_parameters(
        KeyType.EC,
        {Attribute.EC_PARAMS: encode_named_curve_parameters(str(spec.size_or_curve))},
        local=True,
    )
    pub, _ = params.generate_keypair(id=key_id, label=spec.name, store=True, private_template=private)
    return serialization.load_der_public_key(encode_ec_public_key(pub))


def _off_token_key(spec: KeySpec) -> Any:
    if spec.key_type == "RSA":
        return rsa.generate_private_key(65537, int(spec.size_or_curve)).public_key()
    return ec.generate_private_key(ec.SECP384R1() if spec.size_or_curve == "secp384r1" else ec.SECP256R1()).public_key()


def _init_token(conf: Path, spec: TokenSpec) -> Path:
    tokendir = conf.parent / "tokens"
    before = set(tokendir.iterdir())
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            spec.label,
            "--pin",
            spec.pin,
            "--so-pin",
            spec.so_pin,
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    (created,) = set(tokendir.iterdir()) - before
    return created


def build(
    directory: Path,
    tokens: tuple[TokenSpec, ...] = DEFAULT_TOKENS,
    *,
    issue: Callable[[Any, TokenSpec], x509.Certificate] | None = None,
) -> dict[str, Any]:
    """Create the tokens; must run in a process that has not loaded SoftHSM2 yet. ``issue``
    makes each key's certificate (public key, token) -> certificate; by default the demo CA
    here (the platform's local CA passes its own: esign/local_card.py)."""
    directory = directory.resolve()
    (directory / "tokens").mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\n"
        "objectstore.backend = file\nlog.level = ERROR\nslots.removable = true\n"
    )
    token_dirs = [_init_token(conf, spec) for spec in tokens]
    os.environ["SOFTHSM2_CONF"] = str(conf)
    module = _softhsm_module()
    lib = pkcs11.lib(module)
    manifest: dict[str, Any] = {"conf": str(conf), "module": module, "ca": None, "tokens": []}
    if issue is None:
        ca = DemoCA()
        manifest["ca"] = ca.cert.public_bytes(serialization.Encoding.DER).hex()

        def issue(public: Any, spec: TokenSpec) -> x509.Certificate:
            return ca.issue(public, spec.holder_name, spec.tc_kimlik_no)

    for spec, token_dir in zip(tokens, token_dirs, strict=True):
        token = lib.get_token(token_label=spec.label)
        certs = []
        with token.open(rw=True, user_pin=spec.pin) as session:
            for index, key in enumerate(spec.keys, start=1):
                key_id = bytes([index])
                public = _generate_on_token(session, key, key_id) if key.on_token else _off_token_key(key)
                cert = issue(public, spec)
                der = cert.public_bytes(serialization.Encoding.DER)
                session.create_object(
                    {
                        Attribute.CLASS: ObjectClass.CERTIFICATE,
                        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                        Attribute.TOKEN: True,
                        Attribute.PRIVATE: False,
                        Attribute.ID: key_id,
                        Attribute.LABEL: key.name,
                        Attribute.SUBJECT: cert.subject.public_bytes(),
                        Attribute.ISSUER: cert.issuer.public_bytes(),
                        Attribute.VALUE: der,
                    }
                )
                certs.append(
                    {
                        "name": key.name,
                        "fingerprint": hashlib.sha256(der).hexdigest(),
                        "has_key": key.on_token,
                    }
                )
        manifest["tokens"].append(
            {
                "label": spec.label,
                "serial": token.serial.decode("ascii").strip(),
                "id": f"softhsm:{token.serial.decode('ascii').strip()}",
                "pin": spec.pin,
                "so_pin": spec.so_pin,
                "directory": str(token_dir),
                "holder_name": spec.holder_name,
                "tc_kimlik_no": spec.tc_kimlik_no,
                "certificates": certs,
            }
        )
    lib.finalize()
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def build_in_subprocess(directory: Path) -> dict[str, Any]:
    """Run :func:`build` in a fresh process, so this one can load SoftHSM2 afterwards."""
    subprocess.run(
        [sys.executable, "-m", "esign_agent.softhsm", str(directory)],
        check=True,
        capture_output=True,
    )
    return json.loads((directory / "manifest.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    manifest = build(args.directory)
    print(json.dumps(manifest, ensure_ascii=False, indent=2))
    print(f"\nexport SOFTHSM2_CONF={manifest['conf']}", file=sys.stderr)


if __name__ == "__main__":
    main()
