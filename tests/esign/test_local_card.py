"""The local card: a SoftHSM2 token with a key made on it and the local CA's certificate, built
in a child process; issued again into the same directory, it replaces the first card (a second
token of the same label would make the agent's and pkcs11's token lookup ambiguous)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from esign.local_ca import LocalCA
from esign.local_card import issue_card

# Reads the card in a fresh process (SoftHSM2 sees only the tokens that existed when it loaded).
READ = """
import json, sys, pkcs11
from pkcs11 import Attribute, ObjectClass
lib = pkcs11.lib("/usr/lib/softhsm/libsofthsm2.so")
tokens = [t for t in (s.get_token() for s in lib.get_slots(token_present=True)) if t.label == sys.argv[1]]
out = []
for token in tokens:
    with token.open(user_pin=sys.argv[2]) as session:
        found = session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
        certs = [bytes(c[Attribute.VALUE]).hex() for c in found]
        keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
        out.append({"certs": certs, "keys": len(keys), "extractable": [bool(k[Attribute.EXTRACTABLE]) for k in keys]})
print(json.dumps(out))
"""


def read_card(manifest: dict) -> list[dict]:
    token = manifest["tokens"][0]
    done = subprocess.run(
        [sys.executable, "-c", READ, token["label"], token["pin"]],
        env={**os.environ, "SOFTHSM2_CONF": manifest["conf"]},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_card_holds_a_token_made_key_and_the_recorded_certificate_and_a_reissue_replaces_it(tmp_path):
    ca = LocalCA.create(tmp_path / "ca")
    end = datetime(2029, 11, 25, tzinfo=UTC)
    common = {
        "full_name": "Çağrı Işıkoğlu",
        "tckn": "10000000146",
        "not_before": end - timedelta(days=3 * 365),
        "not_after": end,
    }
    first = issue_card(ca.directory, tmp_path / "card", serial=0x7F01AA, **common)
    [card] = read_card(first)
    assert card["keys"] == 1 and card["extractable"] == [False]  # made on the token, stays there
    [der] = card["certs"]
    cert = x509.load_der_x509_certificate(bytes.fromhex(der))
    assert cert.serial_number == 0x7F01AA and cert.issuer == ca.intermediate.subject
    assert cert.subject.rfc4514_string() == "C=TR,CN=Çağrı Işıkoğlu,2.5.4.5=10000000146"
    assert first["tokens"][0]["certificates"][0]["fingerprint"] == hashlib.sha256(bytes.fromhex(der)).hexdigest()

    second = issue_card(ca.directory, tmp_path / "card", serial=0x7F01AA, **common)
    [again] = read_card(second)  # one token, not two of the same label
    assert again["certs"] != card["certs"]  # a new key, so a new certificate

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds no local card"):
        issue_card(ca.directory, tmp_path / "other", serial=1, **common)
    assert (tmp_path / "other" / "notes.txt").exists()
