"""Fixtures for the signing agent's tests; helpers they share with the tests are in helpers.py."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography import x509
from esign_agent.server import Agent
from esign_agent.softhsm import build_in_subprocess

from .helpers import Card, SoftHSM, StartAgent, agent_config, log_in_once


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """SoftHSM2 tokens built once per session in a temporary directory; SOFTHSM2_CONF points
    there for the session (nothing on the machine is used but the package)."""
    if shutil.which("softhsm2-util") is None:
        pytest.fail("SoftHSM2 is missing: `make test` installs it (apt install softhsm2)")
    manifest = build_in_subprocess(tmp_path_factory.mktemp("softhsm"))
    cards = [
        Card(
            id=t["id"],
            label=t["label"],
            pin=t["pin"],
            so_pin=t["so_pin"],
            directory=Path(t["directory"]),
            holder_name=t["holder_name"],
            tc_kimlik_no=t["tc_kimlik_no"],
            fingerprints={c["name"]: c["fingerprint"] for c in t["certificates"]},
        )
        for t in manifest["tokens"]
    ]
    with pytest.MonkeyPatch.context() as mp:
        # SoftHSM2 reads this when a process first initialises it: before any agent starts.
        mp.setenv("SOFTHSM2_CONF", manifest["conf"])
        yield SoftHSM(
            conf=manifest["conf"],
            module=manifest["module"],
            ca=x509.load_der_x509_certificate(bytes.fromhex(manifest["ca"])),
            cards=cards,
        )


@pytest.fixture
async def start_agent(softhsm: SoftHSM) -> AsyncIterator[StartAgent]:
    """``await start_agent(pin_entry="agent", loader=..., pin_prompt=..., clock=...)``."""
    started: list[Agent] = []

    async def start(*, loader: Any = pkcs11.lib, pin_prompt: Any = None, clock: Any = None, **config: Any) -> Agent:
        extra = {"clock": clock} if clock is not None else {}
        agent = Agent(agent_config(**config), loader=loader, pin_prompt=pin_prompt, **extra)
        await agent.start()
        started.append(agent)
        return agent

    yield start
    for agent in started:
        await agent.worker.run(log_in_once(softhsm.module, softhsm.cards))
        # Stopping finalises SoftHSM2, so the next agent re-reads the token directory.
        await agent.stop()


@pytest.fixture
async def agent(start_agent: StartAgent) -> Agent:
    return await start_agent()
