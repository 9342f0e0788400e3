"""PIN entry in the agent's own window (``pin_entry = "agent"``), so the PIN never enters
the browser. The window runs in a child process (``python -m esign_agent.pin_dialog``): Tk wants
the main thread of its process, which in the agent belongs to asyncio. The PIN comes back over
the child's stdout pipe and is never written anywhere else.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(frozen=True)
class PinQuestion:
    origin: str  # shown so the holder sees which site asks
    token_label: str
    holder_name: str | None
    final_try: bool


class PinPrompt(Protocol):
    async def ask(self, question: PinQuestion) -> str | None:
        """The PIN the holder typed, or None if they cancelled."""
        ...


def dialog_available() -> bool:
    return importlib.util.find_spec("tkinter") is not None


DIALOG_COMMAND = (sys.executable, "-m", "esign_agent.pin_dialog")


class DialogPinPrompt:
    def __init__(self, timeout: float, command: tuple[str, ...] = DIALOG_COMMAND) -> None:
        self._timeout = timeout
        self._command = command

    async def ask(self, question: PinQuestion) -> str | None:
        proc = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(json.dumps(asdict(question)).encode()), self._timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return None
        if proc.returncode != 0:
            return None
        return out.decode("utf-8").rstrip("\r\n") or None
