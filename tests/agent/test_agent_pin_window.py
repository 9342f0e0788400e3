"""``pin_entry = "agent"``: the agent asks for the PIN in its own window; the page never has it."""

from __future__ import annotations

import sys

from esign_agent.pin_prompt import DialogPinPrompt, PinQuestion

from .helpers import ORIGIN, ScriptedPrompt, client, sign_fields


def without_pin(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if k != "pin"}


async def test_sign_asks_the_holder_in_the_agent_window(start_agent, softhsm):
    card = softhsm.main
    prompt = ScriptedPrompt(card.pin)
    agent = await start_agent(pin_entry="agent", pin_prompt=prompt)
    async with client(agent) as page:
        assert (await page.ok("hello"))["pin_entry"] == "agent"
        assert (await page.ok("sign", **without_pin(sign_fields(card))))["signature"]
    (question,) = prompt.questions
    assert question == PinQuestion(
        origin=ORIGIN, token_label="esign-test", holder_name="Çağrı Işıkoğlu Şenöz", final_try=False
    )


async def test_a_pin_sent_by_the_page_is_refused_in_agent_mode(start_agent, softhsm):
    prompt = ScriptedPrompt(softhsm.main.pin)
    agent = await start_agent(pin_entry="agent", pin_prompt=prompt)
    async with client(agent) as page:
        error = await page.error("sign", **sign_fields(softhsm.main))
    assert error["code"] == "BAD_REQUEST"
    assert prompt.questions == []


async def test_cancelled_window_answers_cancelled_and_costs_no_attempt(start_agent, softhsm):
    card = softhsm.main
    prompt = ScriptedPrompt(None)
    agent = await start_agent(pin_entry="agent", pin_prompt=prompt)
    async with client(agent) as page:
        assert (await page.error("sign", **without_pin(sign_fields(card))))["code"] == "CANCELLED"
        prompt.pin = "000000"
        assert (await page.error("sign", **without_pin(sign_fields(card))))["code"] == "PIN_INCORRECT"
        # The cancel did not count as a wrong PIN; the wrong PIN did.
        assert (await page.error("sign", **without_pin(sign_fields(card))))["code"] == "RATE_LIMITED"


async def test_no_window_opens_for_a_request_that_would_fail_anyway(start_agent, softhsm):
    prompt = ScriptedPrompt(softhsm.main.pin)
    agent = await start_agent(pin_entry="agent", pin_prompt=prompt)
    async with client(agent) as page:
        fields = {**without_pin(sign_fields(softhsm.main)), "certificate": "cd" * 32}
        assert (await page.error("sign", **fields))["code"] == "CERT_NOT_FOUND"
    assert prompt.questions == []


QUESTION = PinQuestion(origin=ORIGIN, token_label="esign-test", holder_name="Çağrı", final_try=True)


async def test_dialog_prompt_reads_the_pin_from_the_window_process():
    """The window process itself needs a display; a stand-in script checks the plumbing:
    the question goes in as JSON on stdin, the PIN comes back on stdout."""
    script = (
        "import json, sys; q = json.load(sys.stdin);"
        "print('654321' if q['final_try'] and q['holder_name'] == 'Çağrı' else 'wrong')"
    )
    prompt = DialogPinPrompt(timeout=30, command=(sys.executable, "-c", script))
    assert await prompt.ask(QUESTION) == "654321"


async def test_dialog_prompt_treats_a_closed_window_as_cancel():
    prompt = DialogPinPrompt(timeout=30, command=(sys.executable, "-c", "import sys; sys.exit(1)"))
    assert await prompt.ask(QUESTION) is None
