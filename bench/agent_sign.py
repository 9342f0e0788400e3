"""Signing agent overhead: median round trip of ``sign`` through the agent (WebSocket, JSON,
base64, worker thread, checks) against a direct python-pkcs11 sign with the same SoftHSM2 key,
in the same run. Prints both medians and their ratio (target: at most 1.3).

    .venv/bin/python bench/agent_sign.py [--rounds 300] [--mechanism RSA_PKCS1_SHA256]

The agent runs as deployed: ``esign-agent run`` in its own process, logging at INFO, polling
for cards; this process plays the page. The direct baseline does what the agent must do for
every ``sign``, because each request brings its PIN: open a session, log in, find the key, sign,
close. Rounds alternate between the two so that drift (CPU frequency, other load) hits both
alike.

Two more figures help read the ratio: a key.sign() alone in an already logged-in session, and a
``hello`` round trip sent right after each direct sign, i.e. to an agent that has just been idle
as long as a sign takes. ``hello`` touches no card, so it is what one WebSocket round trip into a
separate process costs on this machine, wake-ups included; the rest of the agent's time is card
work.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pkcs11
from esign_agent import mechanisms
from esign_agent.certificates import CertificateInfo
from esign_agent.protocol import Mechanism
from esign_agent.softhsm import build_in_subprocess
from websockets.asyncio.client import connect

ORIGIN = "https://bench.example"
KEY_FOR = {
    Mechanism.RSA_PKCS1_SHA256: "rsa-2048",
    Mechanism.RSA_PSS_SHA256: "rsa-2048",
    Mechanism.ECDSA_SHA256: "ec-p256",
}
DATA = os.urandom(400)  # about the size of CMS signed attributes


def direct_sign(
    token: object, pin: str, key_label: str, plan: mechanisms.SignPlan
) -> Callable[[], bytes]:
    def sign() -> bytes:
        with token.open(user_pin=pin) as session:  # type: ignore[attr-defined]
            key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=key_label)
            return plan.finish(
                key.sign(plan.payload(DATA), mechanism=plan.mechanism, mechanism_param=plan.param)
            )

    return sign


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def start_agent(conf: str, log: Path) -> tuple[asyncio.subprocess.Process, int]:
    """``esign-agent run`` on a free port; its log goes to a file (a pipe would fill up)."""
    env = {**os.environ, "SOFTHSM2_CONF": conf}
    args = (
        "-m",
        "esign_agent.cli",
        "run",
        "--port",
        "0",
        "--card-type",
        "softhsm",
        "--allow-origin",
        ORIGIN,
    )
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, stderr=sink)
    for _ in range(200):
        if match := re.search(r"listening on ws://127\.0\.0\.1:(\d+)", log.read_text()):
            return proc, int(match[1])
        await asyncio.sleep(0.05)
    proc.kill()
    raise SystemExit(f"the agent did not start:\n{log.read_text()}")


async def run(rounds: int, mechanism: Mechanism) -> float:
    with tempfile.TemporaryDirectory(prefix="esign-bench-") as tmp:
        manifest = build_in_subprocess(Path(tmp))
        os.environ["SOFTHSM2_CONF"] = manifest["conf"]
        card = manifest["tokens"][0]
        key_name = KEY_FOR[mechanism]
        fingerprint = next(c["fingerprint"] for c in card["certificates"] if c["name"] == key_name)
        proc, port = await start_agent(manifest["conf"], Path(tmp) / "agent.log")
        try:
            async with connect(
                f"ws://127.0.0.1:{port}", origin=ORIGIN, subprotocols=["esign-agent.v1"]
            ) as ws:
                request = {
                    "type": "sign",
                    "token": card["id"],
                    "certificate": fingerprint,
                    "mechanism": mechanism.value,
                    "data": base64.b64encode(DATA).decode(),
                    "pin": card["pin"],
                }

                async def round_trip(message: dict[str, str]) -> float:
                    start = time.perf_counter()
                    await ws.send(json.dumps(message))
                    while "event" in (answer := json.loads(await ws.recv())):
                        pass  # a page ignores events it does not care about; so does this one
                    elapsed = time.perf_counter() - start
                    assert answer["ok"], answer
                    return elapsed

                async def through_agent(n: int) -> float:
                    return await round_trip({"id": str(n), **request})

                await ws.send(
                    json.dumps({"id": "certs", "type": "get_certificates", "token": card["id"]})
                )
                certs = json.loads(await ws.recv())["result"]["certificates"]
                der = base64.b64decode(
                    next(c["der"] for c in certs if c["fingerprint"] == fingerprint)
                )
                token = pkcs11.lib(manifest["module"]).get_token(token_label=card["label"])
                plan = mechanisms.plan(
                    mechanism, CertificateInfo.from_der(der), token.slot.get_mechanisms()
                )
                direct = direct_sign(token, card["pin"], key_name, plan)

                for n in range(20):  # warm-up: caches, first logins, the connection
                    await through_agent(n)
                    direct()
                agent_times, direct_times, hello_times = [], [], []
                for n in range(rounds):
                    agent_times.append(await through_agent(n))
                    direct_times.append(timed(direct))
                    hello_times.append(await round_trip({"id": f"h{n}", "type": "hello"}))
                with token.open(user_pin=card["pin"]) as session:
                    key = session.get_key(
                        object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=key_name
                    )
                    payload = plan.payload(DATA)
                    warm = [
                        timed(
                            lambda: key.sign(
                                payload, mechanism=plan.mechanism, mechanism_param=plan.param
                            )
                        )
                        for _ in range(rounds)
                    ]
        finally:
            proc.terminate()
            await proc.wait()

    agent_ms, direct_ms, warm_ms, hello_ms = (
        statistics.median(t) * 1000 for t in (agent_times, direct_times, warm, hello_times)
    )
    ratio = agent_ms / direct_ms
    print(f"sign {mechanism.value}, {key_name} key on SoftHSM2, {rounds} rounds each, same run")
    print(f"  direct python-pkcs11 (open session, log in, sign, close): median {direct_ms:7.3f} ms")
    print(
        f"  through the agent (esign-agent run, WebSocket round trip):  median {agent_ms:7.3f} ms"
    )
    print(f"  ratio agent/direct: {ratio:.2f}x (target <= 1.30x)")
    print("  for context:")
    print(f"    key.sign() alone in an already logged-in session:       median {warm_ms:7.3f} ms")
    print(f"    hello round trip (no card work) to the agent after idle: median {hello_ms:7.3f} ms")
    beyond = (agent_ms - hello_ms) / direct_ms
    print(f"    agent time beyond that round trip, vs direct:             {beyond:.2f}x")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument(
        "--mechanism",
        choices=[m.value for m in Mechanism],
        default=Mechanism.RSA_PKCS1_SHA256.value,
    )
    args = parser.parse_args()
    ratio = asyncio.run(run(args.rounds, Mechanism(args.mechanism)))
    return 0 if ratio <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
