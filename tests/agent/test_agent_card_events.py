"""Cards coming and going: events, TOKEN_NOT_PRESENT, and TOKEN_REMOVED mid-operation.

SoftHSM2 loses a token whose directory disappears, which is how these tests pull a card out;
it only notices new tokens when re-initialised, so insertion is checked on CardWatch directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from esign_agent.server import CardWatch
from esign_agent.tokens import PinStatus, TokenInfo

from .helpers import ScriptedPrompt, client, sign_fields


@contextmanager
def card_pulled_out(directory: Path) -> Iterator[None]:
    """Puts a card that ``pull`` took out back afterwards, for the next tests (each agent
    finalises SoftHSM2 when it stops, so the next one sees the token again)."""
    parked = directory.with_name(directory.name + ".pulled")
    try:
        yield
    finally:
        if parked.exists():
            parked.rename(directory)


def pull(directory: Path) -> None:
    directory.rename(directory.with_name(directory.name + ".pulled"))


async def test_removed_card_is_announced_and_no_longer_served(agent, softhsm):
    spare = softhsm.spare
    async with client(agent) as page:
        assert spare.id in {t["id"] for t in (await page.ok("list_tokens"))["tokens"]}
        # Signed with once, so the agent remembers which slot the card was in.
        assert (await page.ok("sign", **sign_fields(spare)))["signature"]
        with card_pulled_out(spare.directory):
            pull(spare.directory)
            event = await page.event()
            assert event["event"] == "token_removed"
            assert (event["token"]["id"], event["token"]["label"]) == (spare.id, spare.label)
            assert "id" not in event  # events are not answers
            assert {t["id"] for t in (await page.ok("list_tokens"))["tokens"]} == {softhsm.main.id}
            assert (await page.error("sign", **sign_fields(spare)))["code"] == "TOKEN_NOT_PRESENT"
            assert (await page.error("get_certificates", token=spare.id))["code"] == "TOKEN_NOT_PRESENT"
            # The card that is still in keeps working.
            assert (await page.ok("sign", **sign_fields(softhsm.main)))["signature"]


async def test_card_pulled_while_the_pin_window_is_open_answers_token_removed(start_agent, softhsm):
    spare = softhsm.spare
    with card_pulled_out(spare.directory):
        prompt = ScriptedPrompt(spare.pin, on_open=lambda: pull(spare.directory))
        agent = await start_agent(pin_entry="agent", pin_prompt=prompt)
        async with client(agent) as page:
            fields = {k: v for k, v in sign_fields(spare).items() if k != "pin"}
            assert (await page.error("sign", **fields))["code"] == "TOKEN_REMOVED"
        assert len(prompt.questions) == 1


def token(serial: str) -> TokenInfo:
    return TokenInfo(
        id=f"akis:{serial}",
        card_type="akis",
        slot_id=1,
        label="AKIS",
        serial=serial,
        model="AKIS v2.5",
        manufacturer="TUBITAK",
        pin=PinStatus(False, False, False),
        initialized=True,
    )


def test_a_card_counts_as_removed_after_two_scans_without_it_and_as_inserted_at_once():
    a, b, c = token("A1"), token("B2"), token("C3")
    watch = CardWatch([a, b])
    assert watch.update([b, c]) == [_event("token_inserted", c)]  # a: missing once, kept
    assert watch.update([b, c]) == [_event("token_removed", a)]
    assert watch.update([b, c]) == []
    assert watch.update([c]) == []  # b blinks out for one scan ...
    assert watch.update([b, c]) == []  # ... and is back: no event either way
    assert watch.update([c]) == []
    assert watch.update([]) == [_event("token_removed", b)]  # c missing once so far
    assert watch.update([]) == [_event("token_removed", c)]


def _event(name: str, info: TokenInfo) -> str:
    return json.dumps({"event": name, "token": info.to_json()}, ensure_ascii=False, separators=(",", ":"))
