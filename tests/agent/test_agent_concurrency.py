"""Several pages and requests at once: one sign per card, answers matched by id, and every
PKCS#11 call on the one worker thread."""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .helpers import ScriptedPrompt, client, sign_fields


def without_pin(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if k != "pin"}


async def test_second_sign_on_a_busy_card_is_refused_while_other_work_goes_on(start_agent, softhsm):
    main, spare = softhsm.main, softhsm.spare
    prompt = ScriptedPrompt(main.pin, hold_for=main.label)  # the holder is still typing
    agent = await start_agent(pin_entry="agent", pin_prompt=prompt)
    async with client(agent) as page, client(agent) as other_page:
        first = asyncio.create_task(page.request("sign", **without_pin(sign_fields(main))))
        await asyncio.wait_for(prompt.opened.wait(), 10)
        busy = await other_page.error("sign", **without_pin(sign_fields(main)))
        assert busy["code"] == "BUSY"
        # Reading the busy card, and signing with another card, still work meanwhile.
        assert len((await other_page.ok("get_certificates", token=main.id))["certificates"]) == 4
        prompt.pin = spare.pin
        assert (await other_page.ok("sign", **without_pin(sign_fields(spare))))["signature"]
        prompt.pin = main.pin
        prompt.release.set()
        answer = await first
    assert answer["ok"] is True, answer
    assert [q.token_label for q in prompt.questions] == [main.label, spare.label]


async def test_parallel_signs_from_many_pages_each_verify_or_report_busy(agent, softhsm):
    card = softhsm.main
    pages = [f"page {n}".encode() for n in range(8)]

    async def sign_from_a_page(data: bytes) -> dict[str, Any]:
        async with client(agent) as page:
            return await page.request("sign", **sign_fields(card, data=data))

    answers = await asyncio.gather(*(sign_from_a_page(data) for data in pages))
    async with client(agent) as page:
        certs = (await page.ok("get_certificates", token=card.id))["certificates"]
    der = next(base64.b64decode(c["der"]) for c in certs if c["fingerprint"] == card.fp("ec-p256"))
    key = x509.load_der_x509_certificate(der).public_key()
    signed = 0
    for data, answer in zip(pages, answers, strict=True):
        if answer["ok"]:
            key.verify(base64.b64decode(answer["result"]["signature"]), data, ec.ECDSA(hashes.SHA256()))
            signed += 1
        else:
            assert answer["error"]["code"] == "BUSY"
    assert signed >= 1


class ThreadSpy:
    """Records the thread of every call into python-pkcs11 objects reached from the module."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.calls = 0

    def load(self, path: str) -> Any:
        return self._wrap(pkcs11.lib(path))

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if type(value).__module__.startswith("pkcs11") and not isinstance(value, (int, bytes, str)):
            return _Spied(value, self)
        return value


class _Spied:
    def __init__(self, real: Any, spy: ThreadSpy) -> None:
        self._real, self._spy = real, spy

    def __getattr__(self, name: str) -> Any:
        self._spy.threads.add(threading.get_ident())
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._spy.threads.add(threading.get_ident())
            self._spy.calls += 1
            result = attr(*args, **kwargs)
            if hasattr(result, "__next__"):  # get_objects() yields lazily: spy on each step
                return (self._spy._wrap(item) for item in result)
            return self._spy._wrap(result)

        return call

    def __getitem__(self, key: Any) -> Any:
        self._spy.threads.add(threading.get_ident())
        return self._real[key]


async def test_every_pkcs11_call_runs_on_one_worker_thread(start_agent, softhsm):
    spy = ThreadSpy()
    agent = await start_agent(loader=spy.load)
    card = softhsm.main

    async def page_work(n: int) -> None:
        async with client(agent) as page:
            await asyncio.gather(
                page.request("list_tokens"),
                page.request("get_certificates", token=card.id),
                page.request("sign", **sign_fields(softhsm.cards[n % 2], data=bytes([n]))),
            )

    await asyncio.gather(*(page_work(n) for n in range(4)))
    assert spy.calls > 20  # the spy saw the work
    assert len(spy.threads) == 1
    assert spy.threads != {threading.get_ident()}  # and it was not the event loop's thread
