"""The one thread that talks PKCS#11.

Some AKİS drivers only work when every call comes from the thread that initialised them, and
python-pkcs11 initialises modules without locking callbacks, which tells the module that the
application will not call it concurrently. One dedicated thread gives both guarantees; the
asyncio side only ever reaches the TokenStore through it.

The thread hands results straight back to the event loop with ``call_soon_threadsafe``; that
is one wake-up less per call than ``run_in_executor``'s chained futures, which the benchmark
(bench/agent_sign.py) notices.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .certificates import CertificateInfo
from .protocol import Sign
from .tokens import CardReport, ModuleStatus, Prepared, TokenInfo, TokenStore

T = TypeVar("T")
_Job = tuple[Callable[[TokenStore], Any], asyncio.AbstractEventLoop, asyncio.Future[Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the caller went away; the job ran anyway
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Pkcs11Worker:
    def __init__(self, store: TokenStore) -> None:
        self._store = store
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="esign-pkcs11", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, loop, future = job
            try:
                result, error = fn(self._store), None
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine, which re-raises it
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:
                pass  # the event loop is closed: nobody is waiting any more

    async def run(self, fn: Callable[[TokenStore], T]) -> T:
        """Run ``fn(store)`` on the worker thread."""
        if not self._thread.is_alive():
            raise RuntimeError("the PKCS#11 worker has stopped")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, loop, future))
        return await future

    async def load(self) -> list[ModuleStatus]:
        return await self.run(TokenStore.load)

    async def tokens(self) -> list[TokenInfo]:
        return await self.run(TokenStore.tokens)

    async def certificates(self, token_id: str) -> list[tuple[CertificateInfo, list[str]]]:
        return await self.run(lambda store: store.certificates(token_id))

    async def prepare(self, request: Sign) -> Prepared:
        return await self.run(lambda store: store.prepare(request))

    async def sign(self, request: Sign, pin: str, *, seen: bool = False) -> bytes:
        return await self.run(lambda store: store.sign(request, pin, seen=seen))

    async def survey(self) -> list[CardReport]:
        return await self.run(TokenStore.survey)

    async def close(self) -> None:
        """Finalise the modules (on the worker thread) and stop the thread."""
        if not self._thread.is_alive():
            return
        try:
            await self.run(TokenStore.close)
        finally:
            self._jobs.put(None)
            self._thread.join()  # it has nothing left to do but return
