"""The one thread that talks PKCS#11.

Some AKİS drivers only work when every call comes from the thread that initialised them, and
python-pkcs11 initialises modules without locking callbacks, which tells the module that the
application will not call it concurrently. A single-thread executor gives both guarantees; the
asyncio side only ever reaches the TokenStore through it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .certificates import CertificateInfo
from .protocol import Mechanism
from .tokens import CardReport, ModuleStatus, Prepared, TokenInfo, TokenStore

T = TypeVar("T")


class Pkcs11Worker:
    def __init__(self, store: TokenStore) -> None:
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="esign-pkcs11")

    async def run(self, fn: Callable[[TokenStore], T]) -> T:
        """Run ``fn(store)`` on the worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, self._store))

    async def load(self) -> list[ModuleStatus]:
        return await self.run(TokenStore.load)

    async def tokens(self) -> list[TokenInfo]:
        return await self.run(TokenStore.tokens)

    async def certificates(self, token_id: str) -> list[tuple[CertificateInfo, list[str]]]:
        return await self.run(lambda store: store.certificates(token_id))

    async def prepare(self, token_id: str, fingerprint: str, mechanism: Mechanism) -> Prepared:
        return await self.run(lambda store: store.prepare(token_id, fingerprint, mechanism))

    async def sign(
        self,
        token_id: str,
        fingerprint: str,
        mechanism: Mechanism,
        data: bytes,
        pin: str,
        *,
        seen: bool = False,
    ) -> bytes:
        return await self.run(
            lambda store: store.sign(token_id, fingerprint, mechanism, data, pin, seen=seen)
        )

    async def survey(self) -> list[CardReport]:
        return await self.run(TokenStore.survey)

    async def close(self) -> None:
        """Finalise the modules (on the worker thread) and stop the thread."""
        try:
            await self.run(TokenStore.close)
        finally:
            self._executor.shutdown(wait=True)
