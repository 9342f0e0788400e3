"""Signing agent overhead: median round trip of ``sign`` through the agent (WebSocket, JSON,
base64, worker thread, checks) against a direct python-pkcs11 sign with the same SoftHSM2 key,
in the same run. Prints the medians and the table row of issue 13's benchmark 8: the agent
against the floor below, target at most 1.05x.

    .venv/bin/python -m bench.agent_sign [--rounds 300] [--mechanism RSA_PKCS1_SHA256]

The agent runs as deployed: ``esign-agent run`` in its own process, logging at INFO, polling
for cards; this process plays the page. The direct baseline does what the agent must do for
every ``sign``, because each request brings its PIN: open a session, log in, find the key, sign,
close. Rounds alternate between the measurements so that drift (CPU frequency, other load) hits
all of them alike.

Three more figures help read the ratio:

- ``key.sign()`` alone in an already logged-in session;
- a ``hello`` round trip sent right after a direct sign, i.e. to an agent that has just been
  idle as long as a sign takes: it touches no card, so it is what one WebSocket round trip into
  a separate process costs on this machine, wake-ups included;
- the floor: the same direct sign behind the least server an agent of this shape can be (its own
  process, a websockets server, one worker thread for PKCS#11, JSON in and out) and nothing else:
  no checks, no card lookup, no PIN status, no log. What the agent costs beyond the floor is its
  own work; the floor itself is what this machine charges for the process and thread hand-offs.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import queue
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pkcs11
from esign_agent import mechanisms
from esign_agent.certificates import CertificateInfo
from esign_agent.protocol import Mechanism
from esign_agent.softhsm import build_in_subprocess
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from bench.harness import ROOT, Result, run_and_report

ORIGIN = "https://bench.example"
KEY_FOR = {
    Mechanism.RSA_PKCS1_SHA256: "rsa-2048",
    Mechanism.RSA_PSS_SHA256: "rsa-2048",
    Mechanism.ECDSA_SHA256: "ec-p256",
}
DATA_SIZE = 400  # about the size of CMS signed attributes
WARM_UP = 20


def sign_plan(token: Any, setup: dict[str, Any]) -> mechanisms.SignPlan:
    """How the agent signs with this certificate's key (mechanism, parameters, payload)."""
    der = base64.b64decode(setup["certificate"])
    return mechanisms.plan(Mechanism(setup["mechanism"]), CertificateInfo.from_der(der), token.slot.get_mechanisms())


def direct_sign(setup: dict[str, Any]) -> Callable[[bytes], bytes]:
    """The baseline: open a session, log in, find the key, sign, close."""
    token = pkcs11.lib(setup["module"]).get_token(token_label=setup["token_label"])
    plan = sign_plan(token, setup)

    def sign(data: bytes) -> bytes:
        with token.open(user_pin=setup["pin"]) as session:
            key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=setup["key_label"])
            return plan.finish(key.sign(plan.payload(data), mechanism=plan.mechanism, mechanism_param=plan.param))

    return sign


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- the floor: the least server of the agent's shape ----------------------------------------


async def serve_floor(setup: dict[str, Any]) -> None:
    """Answers ``{"id", "data"}`` with the direct sign's signature, signed on one worker thread.
    Reads its setup from stdin; prints its port on the first line of stdout."""
    loop = asyncio.get_running_loop()
    jobs: queue.SimpleQueue[tuple[bytes, asyncio.Future[bytes]]] = queue.SimpleQueue()
    ready = threading.Event()

    def worker() -> None:
        sign = direct_sign(setup)
        ready.set()
        while True:
            data, future = jobs.get()
            signature = sign(data)
            loop.call_soon_threadsafe(future.set_result, signature)

    threading.Thread(target=worker, daemon=True).start()
    await asyncio.to_thread(ready.wait)

    async def handle(ws: ServerConnection) -> None:
        async for message in ws:
            request = json.loads(message)
            future = loop.create_future()
            jobs.put((base64.b64decode(request["data"]), future))
            signature = base64.b64encode(await future).decode()
            await ws.send(json.dumps({"id": request["id"], "ok": True, "result": {"signature": signature}}))

    async with serve(handle, "127.0.0.1", 0, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


# -- the page side --------------------------------------------------------------------------


async def start_agent(conf: str, log: Path) -> tuple[asyncio.subprocess.Process, int]:
    """``esign-agent run`` on a free port; its log goes to a file (a pipe would fill up)."""
    env = {**os.environ, "SOFTHSM2_CONF": conf}
    args = ("-m", "esign_agent.cli", "run", "--port", "0", "--card-type", "softhsm")
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, "--allow-origin", ORIGIN, env=env, stderr=sink
        )
    for _ in range(200):
        if match := re.search(r"listening on ws://127\.0\.0\.1:(\d+)", log.read_text()):
            return proc, int(match[1])
        await asyncio.sleep(0.05)
    proc.kill()
    raise SystemExit(f"the agent did not start:\n{log.read_text()}")


async def start_floor(setup: dict[str, Any]) -> tuple[asyncio.subprocess.Process, int]:
    # The setup holds the token's PIN: it goes through a pipe, not the command line (ps shows that).
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.agent_sign",
        "--serve-floor",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(setup).encode() + b"\n")
    await proc.stdin.drain()
    proc.stdin.close()
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if not line.strip().isdigit():
        proc.kill()
        raise SystemExit("the floor server did not start")
    return proc, int(line)


def round_trip(ws: ClientConnection) -> Callable[[dict[str, str]], Awaitable[float]]:
    async def send(message: dict[str, str]) -> float:
        start = time.perf_counter()
        await ws.send(json.dumps(message))
        while "event" in (answer := json.loads(await ws.recv())):
            pass  # a page ignores events it does not care about; so does this one
        elapsed = time.perf_counter() - start
        assert answer["ok"], answer
        return elapsed

    return send


async def measure(rounds: int, mechanism: Mechanism, tmp: Path) -> dict[str, float]:
    manifest = build_in_subprocess(tmp)
    os.environ["SOFTHSM2_CONF"] = manifest["conf"]
    card = manifest["tokens"][0]
    key_name = KEY_FOR[mechanism]
    fingerprint = next(c["fingerprint"] for c in card["certificates"] if c["name"] == key_name)
    data = os.urandom(DATA_SIZE)
    processes = []
    try:
        agent, agent_port = await start_agent(manifest["conf"], tmp / "agent.log")
        processes.append(agent)
        async with connect(f"ws://127.0.0.1:{agent_port}", origin=ORIGIN, subprotocols=["esign-agent.v1"]) as agent_ws:
            through_agent = round_trip(agent_ws)
            await agent_ws.send(json.dumps({"id": "c", "type": "get_certificates", "token": card["id"]}))
            certs = json.loads(await agent_ws.recv())["result"]["certificates"]
            setup = {
                "module": manifest["module"],
                "token_label": card["label"],
                "pin": card["pin"],
                "key_label": key_name,
                "mechanism": mechanism.value,
                "certificate": next(c["der"] for c in certs if c["fingerprint"] == fingerprint),
            }
            floor, floor_port = await start_floor(setup)
            processes.append(floor)
            async with connect(f"ws://127.0.0.1:{floor_port}", compression=None) as floor_ws:
                through_floor = round_trip(floor_ws)
                direct = direct_sign(setup)
                b64 = base64.b64encode(data).decode()
                sign = {
                    "type": "sign",
                    "token": card["id"],
                    "certificate": fingerprint,
                    "mechanism": mechanism.value,
                    "data": b64,
                    "pin": card["pin"],
                }
                times: dict[str, list[float]] = {"agent": [], "direct": [], "floor": [], "hello": []}
                for n in range(WARM_UP + rounds):  # the first rounds warm caches and first logins
                    measured = {
                        "agent": await through_agent({"id": str(n), **sign}),
                        "direct": timed(lambda: direct(data)),
                        "floor": await through_floor({"id": str(n), "data": b64}),
                        "hello": await through_agent({"id": f"h{n}", "type": "hello"}),
                    }
                    if n >= WARM_UP:
                        for name, elapsed in measured.items():
                            times[name].append(elapsed)
        token = pkcs11.lib(manifest["module"]).get_token(token_label=card["label"])
        with token.open(user_pin=card["pin"]) as session:
            key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=key_name)
            plan = sign_plan(token, setup)
            payload = plan.payload(data)
            times["key.sign"] = [
                timed(lambda: key.sign(payload, mechanism=plan.mechanism, mechanism_param=plan.param))
                for _ in range(rounds)
            ]
    finally:
        for proc in processes:
            proc.terminate()
            await proc.wait()
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def report(ms: dict[str, float], rounds: int, mechanism: Mechanism) -> Result:
    print(f"sign {mechanism.value}, {KEY_FOR[mechanism]} key on SoftHSM2, {rounds} rounds each, same run")
    print(f"  direct python-pkcs11 (open session, log in, sign, close): median {ms['direct']:7.3f} ms")
    print(f"  through the agent (esign-agent run, WebSocket round trip):  median {ms['agent']:7.3f} ms")
    print(f"  ratio agent/direct: {ms['agent'] / ms['direct']:.2f}x")
    print("  for context:")
    print(f"    key.sign() alone in an already logged-in session:       median {ms['key.sign']:7.3f} ms")
    print(f"    hello round trip (no card work) to the agent after idle: median {ms['hello']:7.3f} ms")
    print(
        f"    floor (direct sign behind a bare WebSocket server with one worker thread): "
        f"median {ms['floor']:7.3f} ms, {ms['floor'] / ms['direct']:.2f}x direct"
    )
    print(
        f"    the agent's own work beyond the floor (checks, card lookup, PIN status, log): "
        f"{ms['agent'] - ms['floor']:+.3f} ms"
    )
    return Result(f"agent sign {mechanism.value} (vs floor)", ms["floor"], ms["agent"], "ms", 1.05, False)


async def run(*, rounds: int, mechanism: Mechanism = Mechanism.RSA_PKCS1_SHA256) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="esign-bench-") as tmp:
        ms = await measure(rounds, mechanism, Path(tmp))
    return [report(ms, rounds, mechanism)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument(
        "--mechanism",
        choices=[m.value for m in Mechanism],
        default=Mechanism.RSA_PKCS1_SHA256.value,
    )
    parser.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        asyncio.run(serve_floor(json.loads(sys.stdin.readline())))
        return 0
    return run_and_report(run(rounds=args.rounds, mechanism=Mechanism(args.mechanism)))


if __name__ == "__main__":
    sys.exit(main())
