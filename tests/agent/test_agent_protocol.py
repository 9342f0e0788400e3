"""The protocol against a real SoftHSM2 card: hello, list, certificates, sign, and refusals."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from websockets.exceptions import ConnectionClosedError

from .helpers import client

DATA = b"\x31\x4b" + os.urandom(75)  # stands in for the DER of CMS signed attributes


def verify(cert_der: bytes, mechanism: str, data: bytes, signature: bytes) -> None:
    """Raises InvalidSignature unless ``signature`` is ``mechanism`` over ``data``."""
    key = x509.load_der_x509_certificate(cert_der).public_key()
    if mechanism == "RSA_PKCS1_SHA256":
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif mechanism == "RSA_PSS_SHA256":
        key.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    else:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


async def test_hello_reports_versions_card_types_and_mechanisms(agent):
    async with client(agent) as page:
        hello = await page.ok("hello")
    assert hello["protocol"] == "esign-agent.v1"
    assert hello["protocol_version"] == 1
    assert hello["agent"] == "esign-agent"
    assert hello["agent_version"]
    assert hello["card_types"] == [{"id": "softhsm", "label": "SoftHSM2 (test token)", "available": True}]
    assert hello["mechanisms"] == ["RSA_PKCS1_SHA256", "RSA_PSS_SHA256", "ECDSA_SHA256"]
    assert hello["pin_entry"] == "page"


async def test_list_tokens_shows_each_card_with_pin_status(agent, softhsm):
    async with client(agent) as page:
        tokens = (await page.ok("list_tokens"))["tokens"]
    by_label = {t["label"]: t for t in tokens}
    assert set(by_label) == {"esign-test", "esign-spare"}  # SoftHSM2's empty slot is not a card
    main = by_label["esign-test"]
    assert main["id"] == softhsm.main.id
    assert main["card_type"] == "softhsm"
    assert main["serial"] == softhsm.main.id.split(":")[1]
    assert main["model"] == "SoftHSM v2"
    assert main["pin"] == {"count_low": False, "final_try": False, "locked": False}


async def test_certificates_carry_holder_name_and_tc_kimlik_no(agent, softhsm):
    async with client(agent) as page:
        certs = (await page.ok("get_certificates", token=softhsm.main.id))["certificates"]
    by_fp = {c["fingerprint"]: c for c in certs}
    assert set(by_fp) == set(softhsm.main.fingerprints.values())
    rsa_cert = by_fp[softhsm.main.fp("rsa-2048")]
    assert rsa_cert["holder_name"] == "Çağrı Işıkoğlu Şenöz"
    assert rsa_cert["tc_kimlik_no"] == "10000000146"
    der = base64.b64decode(rsa_cert["der"])
    assert hashlib.sha256(der).hexdigest() == rsa_cert["fingerprint"]
    parsed = x509.load_der_x509_certificate(der)
    parsed.verify_directly_issued_by(softhsm.ca)
    assert rsa_cert["issuer_name"] == "Test Elektronik Sertifika Hizmet Sağlayıcısı"
    assert rsa_cert["issuer"] == softhsm.ca.subject.rfc4514_string()
    assert rsa_cert["key_usage"] == ["digital_signature", "non_repudiation"]
    assert rsa_cert["not_after"] == parsed.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert datetime.fromisoformat(rsa_cert["not_before"]) < datetime.now(UTC)
    assert (rsa_cert["key_type"], rsa_cert["key_size"]) == ("RSA", 2048)
    assert rsa_cert["mechanisms"] == ["RSA_PKCS1_SHA256", "RSA_PSS_SHA256"]
    p384 = by_fp[softhsm.main.fp("ec-p384")]
    assert (p384["key_type"], p384["curve"], p384["mechanisms"]) == (
        "EC",
        "P-384",
        ["ECDSA_SHA256"],
    )


@pytest.mark.parametrize(
    ("key", "mechanism"),
    [
        ("rsa-2048", "RSA_PKCS1_SHA256"),
        ("rsa-2048", "RSA_PSS_SHA256"),
        ("ec-p256", "ECDSA_SHA256"),
        ("ec-p384", "ECDSA_SHA256"),
    ],
)
async def test_sign_verifies_with_the_certificate(agent, softhsm, key, mechanism):
    card = softhsm.main
    async with client(agent) as page:
        certs = (await page.ok("get_certificates", token=card.id))["certificates"]
        der = next(base64.b64decode(c["der"]) for c in certs if c["fingerprint"] == card.fp(key))
        result = await page.ok(
            "sign",
            token=card.id,
            certificate=card.fp(key),
            mechanism=mechanism,
            data=base64.b64encode(DATA).decode(),
            pin=card.pin,
        )
    signature = base64.b64decode(result["signature"])
    verify(der, mechanism, DATA, signature)
    with pytest.raises(InvalidSignature):
        verify(der, mechanism, DATA + b"x", signature)


async def test_sign_refusals_name_what_is_wrong(agent, softhsm):
    card = softhsm.main
    sign = {"mechanism": "RSA_PKCS1_SHA256", "data": "AAEC", "pin": card.pin}
    async with client(agent) as page:
        wrong_key_type = await page.error("sign", token=card.id, certificate=card.fp("ec-p256"), **sign)
        unknown_cert = await page.error("sign", token=card.id, certificate="ab" * 32, **sign)
        no_key = await page.error(
            "sign",
            token=card.id,
            certificate=card.fp("orphan"),
            **{**sign, "mechanism": "ECDSA_SHA256"},
        )
        no_card = await page.error("sign", token="softhsm:0000", certificate=card.fp("rsa-2048"), **sign)
        unloaded_type = await page.error("get_certificates", token="akis:1234")
        unknown_mechanism = await page.error(
            "sign",
            token=card.id,
            certificate=card.fp("rsa-2048"),
            **{**sign, "mechanism": "RSA_PKCS1_SHA1"},
        )
    assert wrong_key_type["code"] == "MECHANISM_NOT_SUPPORTED"
    assert unknown_cert["code"] == "CERT_NOT_FOUND"
    assert no_key["code"] == "KEY_NOT_FOUND"
    assert no_card["code"] == "TOKEN_NOT_PRESENT"
    assert unloaded_type["code"] == "TOKEN_NOT_PRESENT"
    assert unknown_mechanism["code"] == "MECHANISM_NOT_SUPPORTED"


@pytest.mark.parametrize(
    ("frame", "answer_id", "mentions"),
    [
        ("not json", None, "JSON"),
        ("[1, 2]", None, "object"),
        ('{"type": "hello"}', None, '"id"'),
        ('{"id": 7, "type": "hello"}', None, '"id"'),
        ('{"id": "a", "type": "sing"}', "a", '"type"'),
        ('{"id": "b", "type": "hello", "extra": 1}', "b", "extra"),
        ('{"id": "c", "type": "get_certificates"}', "c", '"token"'),
        ('{"id": "d", "type": "get_certificates", "token": 5}', "d", '"token"'),
        (
            '{"id": "e", "type": "sign", "token": "t", "certificate": "zz",'
            ' "mechanism": "ECDSA_SHA256", "data": "AA==", "pin": "1"}',
            "e",
            "fingerprint",
        ),
        (
            '{"id": "f", "type": "sign", "token": "t", "certificate": "' + "a" * 64 + '",'
            ' "mechanism": "ECDSA_SHA256", "data": "not base64!", "pin": "1"}',
            "f",
            "base64",
        ),
        (b"\x00binary", None, "Binary"),
    ],
)
async def test_malformed_requests_get_bad_request_and_the_connection_survives(agent, frame, answer_id, mentions):
    async with client(agent) as page:
        answer = await page.send_raw(frame)
        assert answer["ok"] is False
        assert answer["id"] == answer_id
        assert answer["error"]["code"] == "BAD_REQUEST"
        assert mentions in answer["error"]["message"]
        assert (await page.ok("hello"))["protocol"] == "esign-agent.v1"


async def test_sign_without_pin_is_a_bad_request_in_page_mode(agent, softhsm):
    card = softhsm.main
    async with client(agent) as page:
        error = await page.error(
            "sign",
            token=card.id,
            certificate=card.fp("ec-p256"),
            mechanism="ECDSA_SHA256",
            data="AA==",
        )
    assert error["code"] == "BAD_REQUEST"


async def test_oversized_message_closes_the_connection(start_agent, caplog):
    agent = await start_agent(max_message_bytes=4096)
    async with client(agent) as page:
        await page.ws.send(json.dumps({"id": "1", "type": "hello", "pad": "x" * 5000}))
        with pytest.raises(ConnectionClosedError) as closed:
            await page.ws.recv()
    assert closed.value.rcvd.code == 1009  # "message too big"
    async with client(agent) as page:  # the agent itself carries on
        assert (await page.ok("hello"))["max_message_bytes"] == 4096
    assert "op=- result=BAD_REQUEST (message too big)" in caplog.text


async def test_answers_are_matched_by_id_when_requests_overlap(agent, softhsm):
    async with client(agent) as page:
        answers = await asyncio.gather(
            *(page.request("hello") for _ in range(10)),
            *(page.request("get_certificates", token=softhsm.main.id) for _ in range(3)),
            *(page.request("list_tokens") for _ in range(5)),
        )
    assert all(a["ok"] for a in answers)
    assert all(a["result"]["protocol"] == "esign-agent.v1" for a in answers[:10])
    assert all(len(a["result"]["certificates"]) == 4 for a in answers[10:13])
    assert all(len(a["result"]["tokens"]) == 2 for a in answers[13:])
