"""`esign renewal-card` issues a SoftHSM2 card for a produced application, and that card signs
in to the renewal: the certificate carries the recorded serial, the holder's name and TC Kimlik
No, and chains to the local CA. The card is used from a child process (SoftHSM2 sees only the
tokens that existed when a process first loaded it), as the agent would use it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from cryptography import x509

from tests.support.applications import FIELD_KEYS, FIELD_LOOKUP_KEY
from tests.support.renewal import challenge, produced_holders

SIGN_WITH_TOKEN = textwrap.dedent(
    """
    import json, os, sys
    import pkcs11
    from pkcs11 import Attribute, Mechanism, ObjectClass
    manifest = json.load(open(sys.argv[1]))
    os.environ["SOFTHSM2_CONF"] = manifest["conf"]
    token = manifest["tokens"][0]
    lib = pkcs11.lib(manifest["module"])
    with lib.get_token(token_label=token["label"]).open(user_pin=token["pin"]) as session:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY)
        cert = next(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))
        signature = key.sign(bytes.fromhex(sys.argv[2]), mechanism=Mechanism.SHA256_RSA_PKCS)
        print(json.dumps({"certificate": bytes(cert[Attribute.VALUE]).hex(), "signature": signature.hex()}))
    """
)


def _card_signs(manifest_path: Path, data: bytes) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SIGN_WITH_TOKEN, str(manifest_path), data.hex()],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


async def test_the_local_card_of_a_produced_application_signs_in(
    client, flow_module, applications_settings, test_ca, tmp_path
):
    (holder,) = await produced_holders(flow_module.flow, flow_module.ca, 1, base=4000)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "local-ca").symlink_to(test_ca.directory)
    card_dir = tmp_path / "card"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "esign.cli",
            "renewal-card",
            "--application",
            holder.application_id,
            "--database-url",
            applications_settings.database_url.get_secret_value(),
            "--data-dir",
            str(data_dir),
            "--card-dir",
            str(card_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # The TC Kimlik No is encrypted at rest: the command opens it with the service's keys.
        env={
            **os.environ,
            "ESIGN_APPLICATIONS_FIELD_KEYS": FIELD_KEYS,
            "ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY": FIELD_LOOKUP_KEY,
        },
    )
    assert done.returncode == 0, done.stderr[-2000:]
    printed = done.stdout
    assert f"SOFTHSM2_CONF={card_dir}" in printed and holder.tckn not in printed

    c = await challenge(client)
    signed = await asyncio.to_thread(_card_signs, card_dir / "manifest.json", base64.b64decode(c["to_sign"]))
    certificate = x509.load_der_x509_certificate(bytes.fromhex(signed["certificate"]))
    assert certificate.serial_number == holder.serial
    assert certificate.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value == holder.tckn
    assert certificate.not_valid_after_utc == holder.not_after
    r = await client.post(
        "/v1/renewal/sessions",
        json={
            "challenge_id": c["challenge_id"],
            "certificate": base64.b64encode(bytes.fromhex(signed["certificate"])).decode(),
            "signature": base64.b64encode(bytes.fromhex(signed["signature"])).decode(),
            "mechanism": "RSA_PKCS1_SHA256",
        },
    )
    assert r.status_code == 201, r.text
