"""Who may connect, and how PINs are guarded: origins, Host, subprotocol, wrong PINs, rate
limit, session leaks, and what the log and the answers may contain."""

from __future__ import annotations

import logging

import pkcs11
import pytest
from websockets.exceptions import InvalidStatus

from .helpers import (
    ORIGIN,
    FakeClock,
    client,
    raw_handshake,
    read_only_session_open,
    sign_fields,
)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://esign.example.gov.tr.evil.example",
        "http://esign.example.gov.tr",  # same host, other scheme
        "https://esign.example.gov.tr:8443",  # same host, other port
        "null",  # sandboxed iframes and file:// pages
        None,  # no Origin at all
    ],
)
async def test_handshake_is_refused_for_origins_off_the_allow_list(agent, origin):
    with pytest.raises(InvalidStatus) as refused:
        async with client(agent, origin=origin):
            pass
    assert refused.value.response.status_code == 403
    assert refused.value.response.body == b"ORIGIN_NOT_ALLOWED\n"


async def test_handshake_checks_the_host_header_against_dns_rebinding(agent):
    port = agent.port
    assert await raw_handshake(port, f"127.0.0.1:{port}", ORIGIN) == 101
    assert await raw_handshake(port, f"localhost:{port}", ORIGIN) == 101
    for host in (
        f"evil.example:{port}",
        f"127.0.0.1:{port + 1}",
        "127.0.0.1",
        f"localhost.evil.example:{port}",
    ):
        assert await raw_handshake(port, host, ORIGIN) == 403, host


@pytest.mark.parametrize("subprotocols", [None, ["chat"]])
async def test_handshake_requires_the_protocol_version(agent, subprotocols):
    with pytest.raises(InvalidStatus) as refused:
        async with client(agent, subprotocols=subprotocols):
            pass
    assert refused.value.response.status_code == 400


async def test_wrong_pin_answers_pin_incorrect_with_the_pin_status(start_agent, softhsm):
    clock = FakeClock()
    agent = await start_agent(clock=clock)
    card = softhsm.main
    async with client(agent) as page:
        error = await page.error("sign", **sign_fields(card, pin="000000"))
        assert error["code"] == "PIN_INCORRECT"
        # SoftHSM2 raises "count low" after a wrong PIN but never reaches final try or locked
        # (test_agent_pin_status.py covers those with a fake counter).
        assert error["pin"] == {"count_low": True, "final_try": False, "locked": False}
        clock.advance(60)
        assert (await page.ok("sign", **sign_fields(card)))["signature"]
        tokens = (await page.ok("list_tokens"))["tokens"]
        assert next(t for t in tokens if t["id"] == card.id)["pin"]["count_low"] is False


async def test_pin_of_impossible_length_costs_no_attempt(agent, softhsm):
    """Refused before the card sees it. (A card may also answer CKR_PIN_LEN_RANGE itself;
    SoftHSM2 calls a too-short PIN incorrect instead.)"""
    card = softhsm.main
    async with client(agent) as page:
        too_short = await page.error("sign", **sign_fields(card, pin=""))
        too_long = await page.error("sign", **sign_fields(card, pin="1" * 65))
        signed = await page.ok("sign", **sign_fields(card))  # no back-off was started
    assert too_short["code"] == too_long["code"] == "PIN_LEN_RANGE"
    assert signed["signature"]


async def test_the_leak_probe_sees_a_leaked_session(agent, softhsm):
    """The probe used below must be able to fail: leak a session the way python-pkcs11 does."""
    card = softhsm.main

    def leak_one(_store):
        token = pkcs11.lib(softhsm.module).get_token(token_label=card.label)
        with pytest.raises(pkcs11.PinIncorrect):
            token.open(user_pin="000000")

    assert not await agent.worker.run(read_only_session_open(softhsm.module, card))
    await agent.worker.run(leak_one)
    assert await agent.worker.run(read_only_session_open(softhsm.module, card))


async def test_fifty_wrong_pins_leak_no_session(start_agent, softhsm):
    clock = FakeClock()
    agent = await start_agent(clock=clock)
    card = softhsm.main
    async with client(agent) as page:
        for _ in range(50):
            clock.advance(3600)  # past any back-off
            assert (await page.error("sign", **sign_fields(card, pin="000000")))["code"] == "PIN_INCORRECT"
        assert not await agent.worker.run(read_only_session_open(softhsm.module, card))
        clock.advance(3600)
        assert (await page.ok("sign", **sign_fields(card)))["signature"]
        assert not await agent.worker.run(read_only_session_open(softhsm.module, card))


async def test_wrong_pins_back_off_per_card(start_agent, softhsm):
    clock = FakeClock()
    agent = await start_agent(clock=clock, wrong_pin_delay=2.0, wrong_pin_max_delay=60.0)
    card = softhsm.main
    async with client(agent) as page:
        assert (await page.error("sign", **sign_fields(card, pin="000000")))["code"] == "PIN_INCORRECT"
        # Even the right PIN is not tried during the back-off ...
        limited = await page.error("sign", **sign_fields(card))
        assert (limited["code"], limited["retry_after"]) == ("RATE_LIMITED", 2)
        # ... which holds for this card only.
        assert (await page.ok("sign", **sign_fields(softhsm.spare)))["signature"]
        clock.advance(1.5)
        assert (await page.error("sign", **sign_fields(card)))["retry_after"] == 1
        clock.advance(0.5)
        assert (await page.error("sign", **sign_fields(card, pin="111111")))["code"] == "PIN_INCORRECT"
        assert (await page.error("sign", **sign_fields(card)))["retry_after"] == 4  # doubled
        clock.advance(4)
        assert (await page.ok("sign", **sign_fields(card)))["signature"]
        # A right PIN clears the count: the next wrong one starts from the first delay again.
        assert (await page.error("sign", **sign_fields(card, pin="000000")))["code"] == "PIN_INCORRECT"
        assert (await page.error("sign", **sign_fields(card)))["retry_after"] == 2


async def test_log_has_origin_operation_result_and_fingerprint_and_nothing_personal(start_agent, softhsm, caplog):
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    agent = await start_agent(clock=clock)
    card = softhsm.main
    async with client(agent) as page:
        await page.ok("list_tokens")
        await page.ok("get_certificates", token=card.id)
        await page.ok("sign", **sign_fields(card))
        await page.error("sign", **sign_fields(card, pin="987654"))
    # Everything the agent logged, even at DEBUG; the test's own client logs frames (with PINs)
    # at DEBUG too, but it plays the page, not the agent.
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.client"))
    assert f"origin={ORIGIN} op=sign result=OK cert={card.fp('ec-p256')}" in text
    assert f"origin={ORIGIN} op=sign result=PIN_INCORRECT cert={card.fp('ec-p256')}" in text
    assert f"origin={ORIGIN} op=get_certificates result=OK" in text
    for secret in (card.pin, "987654", card.tc_kimlik_no, card.holder_name, card.so_pin):
        assert secret not in text


async def test_unexpected_failure_answers_internal_without_details(agent, monkeypatch):
    async def broken():
        raise RuntimeError("cannot open /home/holder/.config/esign-agent/secret")

    monkeypatch.setattr(agent.worker, "tokens", broken)
    async with client(agent) as page:
        error = await page.error("list_tokens")
        assert (await page.ok("hello"))["protocol"] == "esign-agent.v1"
    assert error == {"code": "INTERNAL", "message": "Internal error in the signing agent."}
