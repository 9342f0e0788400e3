"""A local SMTP server (aiosmtpd) for `esign up`: every message the platform sends is kept as an
``.eml`` file in the data directory, where a person can open it, and announced on the console."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path, announce: Callable[[str], object]) -> None:
        self.folder = folder
        self.announce = announce

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**9:09d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        self.announce(f"mail to {', '.join(envelope.rcpt_tos)}: {message['subject']}  ({path})")
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self, folder: Path, host: str, port: int, announce: Callable[[str], object] = print) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._controller = Controller(_SaveToFolder(folder, announce), hostname=host, port=port)

    @property
    def address(self) -> str:
        return f"{self._controller.hostname}:{self._controller.port}"

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
