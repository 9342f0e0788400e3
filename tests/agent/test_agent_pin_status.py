"""Final try and locked PINs, which SoftHSM2 cannot show: a retry counter (fake_card.py) sits in
front of the real token."""

from __future__ import annotations

import logging

from .fake_card import RetryCounter
from .helpers import FakeClock, client, sign_fields

WRONG = "000000"


def pin(count_low: bool, final_try: bool, locked: bool) -> dict[str, bool]:
    return {"count_low": count_low, "final_try": final_try, "locked": locked}


async def pin_of(page, card) -> dict[str, bool]:
    tokens = (await page.ok("list_tokens"))["tokens"]
    return next(t["pin"] for t in tokens if t["id"] == card.id)


async def test_pin_status_counts_down_and_a_locked_card_is_never_tried(start_agent, softhsm):
    counter, clock = RetryCounter(tries=3), FakeClock()
    agent = await start_agent(loader=counter.load, clock=clock)
    card = softhsm.main
    async with client(agent) as page:
        assert await pin_of(page, card) == pin(False, False, False)
        first = await page.error("sign", **sign_fields(card, pin=WRONG))
        assert (first["code"], first["pin"]) == ("PIN_INCORRECT", pin(True, False, False))
        clock.advance(3600)
        second = await page.error("sign", **sign_fields(card, pin=WRONG))
        assert (second["code"], second["pin"]) == ("PIN_INCORRECT", pin(True, True, False))
        assert await pin_of(page, card) == pin(True, True, False)
        clock.advance(3600)
        third = await page.error("sign", **sign_fields(card, pin=WRONG))
        assert (third["code"], third["pin"]) == ("PIN_INCORRECT", pin(True, False, True))
        assert counter.login_attempts == 3
        clock.advance(3600)
        refused = await page.error("sign", **sign_fields(card))  # even the right PIN
        assert (refused["code"], refused["pin"]) == ("PIN_LOCKED", pin(True, False, True))
        assert counter.login_attempts == 3  # the agent did not try it
        assert await pin_of(page, card) == pin(True, False, True)
        # The other card is unaffected.
        assert (await page.ok("sign", **sign_fields(softhsm.spare)))["signature"]


async def test_right_pin_on_the_final_try_signs_with_a_warning_in_the_log(start_agent, softhsm, caplog):
    caplog.set_level(logging.INFO, logger="esign_agent")
    counter, clock = RetryCounter(tries=3), FakeClock()
    agent = await start_agent(loader=counter.load, clock=clock)
    card = softhsm.main
    async with client(agent) as page:
        for _ in range(2):
            await page.error("sign", **sign_fields(card, pin=WRONG))
            clock.advance(3600)
        assert "final try" not in caplog.text
        assert (await page.ok("sign", **sign_fields(card)))["signature"]
        assert f"cert={card.fp('ec-p256')}: the card's PIN is on its final try" in caplog.text
        assert await pin_of(page, card) == pin(False, False, False)
