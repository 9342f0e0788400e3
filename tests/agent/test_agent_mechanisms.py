"""Each way of carrying out a protocol mechanism, on the card's combined mechanism or by hashing
on the host, signs verifiably on SoftHSM2 (which lacks CKM_ECDSA_SHA256 altogether)."""

from __future__ import annotations

import base64

import pkcs11
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from esign_agent import mechanisms
from esign_agent.certificates import CertificateInfo
from esign_agent.protocol import AgentError, Mechanism
from esign_agent.softhsm import DemoCA

from .helpers import client
from .test_agent_protocol import DATA, verify

M = pkcs11.Mechanism


@pytest.mark.parametrize(
    ("key", "name", "available", "prehash"),
    [
        ("rsa-2048", Mechanism.RSA_PKCS1_SHA256, {M.SHA256_RSA_PKCS, M.RSA_PKCS}, False),
        ("rsa-2048", Mechanism.RSA_PKCS1_SHA256, {M.RSA_PKCS}, True),
        ("rsa-2048", Mechanism.RSA_PSS_SHA256, {M.SHA256_RSA_PKCS_PSS, M.RSA_PKCS_PSS}, False),
        ("rsa-2048", Mechanism.RSA_PSS_SHA256, {M.RSA_PKCS_PSS}, True),
        ("ec-p256", Mechanism.ECDSA_SHA256, {M.ECDSA}, True),
        ("ec-p384", Mechanism.ECDSA_SHA256, {M.ECDSA}, True),
    ],
)
async def test_plan_signs_verifiably(agent, softhsm, key, name, available, prehash):
    card = softhsm.main
    async with client(agent) as page:
        certs = (await page.ok("get_certificates", token=card.id))["certificates"]
    der = next(base64.b64decode(c["der"]) for c in certs if c["fingerprint"] == card.fp(key))
    plan = mechanisms.plan(name, CertificateInfo.from_der(der), available)
    assert plan.prehash is prehash

    def sign_on_card(_store):
        with pkcs11.lib(softhsm.module).get_token(token_label=card.label).open(user_pin=card.pin) as session:
            private = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=key)
            return private.sign(plan.payload(DATA), mechanism=plan.mechanism, mechanism_param=plan.param)

    verify(der, name.value, DATA, plan.finish(await agent.worker.run(sign_on_card)))


def test_plan_refuses_what_the_card_or_the_key_cannot_do():
    ca = DemoCA()
    p521 = ca.issue(ec.generate_private_key(ec.SECP521R1()).public_key(), "Ayşe Yılmaz", "10000000146")
    p256 = ca.issue(ec.generate_private_key(ec.SECP256R1()).public_key(), "Ayşe Yılmaz", "10000000146")
    p521_info = CertificateInfo.from_der(p521.public_bytes(Encoding.DER))
    p256_info = CertificateInfo.from_der(p256.public_bytes(Encoding.DER))
    everything = set(M)
    with pytest.raises(AgentError, match=r"P-521|secp521r1"):
        mechanisms.plan(Mechanism.ECDSA_SHA256, p521_info, everything)
    with pytest.raises(AgentError, match="does not apply"):
        mechanisms.plan(Mechanism.RSA_PSS_SHA256, p256_info, everything)
    with pytest.raises(AgentError, match="does not offer"):
        mechanisms.plan(Mechanism.ECDSA_SHA256, p256_info, {M.RSA_PKCS})
    assert mechanisms.usable(p256_info, everything) == ["ECDSA_SHA256"]
    assert mechanisms.usable(p521_info, everything) == []
