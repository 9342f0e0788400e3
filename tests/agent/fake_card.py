"""A card's PIN retry counter in front of a real SoftHSM2 token: the only fake in these tests.

SoftHSM2 never reports "final try" or "locked", while an AKİS card allows a few wrong PINs and
then locks. The PIN is still checked by SoftHSM2 and everything else passes straight through;
this layer only counts wrong PINs, reports the flags a card would, and refuses logins once
locked, counting every login attempt so tests can prove the agent made none.
"""

from __future__ import annotations

from typing import Any

import pkcs11
from pkcs11 import TokenFlag

_PIN_FLAGS = TokenFlag.USER_PIN_COUNT_LOW | TokenFlag.USER_PIN_FINAL_TRY | TokenFlag.USER_PIN_LOCKED


class _Proxy:
    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class RetryCounter(_Proxy):
    """Use ``loader=counter.load`` when starting an agent."""

    def __init__(self, tries: int = 3) -> None:
        super().__init__(None)
        self.tries = tries
        self.left: dict[bytes, int] = {}  # token serial -> tries left
        self.login_attempts = 0

    def load(self, path: str) -> RetryCounter:
        self._real = pkcs11.lib(path)
        return self

    def get_slots(self, token_present: bool = False) -> list[Any]:
        return [_Slot(slot, self) for slot in self._real.get_slots(token_present=token_present)]

    def flags(self, serial: bytes) -> int:
        left = self.left.get(serial, self.tries)
        flags = 0
        if left < self.tries:
            flags |= TokenFlag.USER_PIN_COUNT_LOW
        if left == 1:
            flags |= TokenFlag.USER_PIN_FINAL_TRY
        if left == 0:
            flags |= TokenFlag.USER_PIN_LOCKED
        return flags


class _Slot(_Proxy):
    def __init__(self, real: Any, counter: RetryCounter) -> None:
        super().__init__(real)
        self._counter = counter

    def get_token(self) -> _Token:
        return _Token(self._real.get_token(), self._counter)


class _Token(_Proxy):
    def __init__(self, real: Any, counter: RetryCounter) -> None:
        super().__init__(real)
        self._counter = counter

    @property
    def flags(self) -> int:
        return (self._real.flags & ~_PIN_FLAGS) | self._counter.flags(self._real.serial)

    def open(self, user_pin: str | None = None, **kwargs: Any) -> Any:
        if user_pin is None:
            return self._real.open(**kwargs)
        counter, serial = self._counter, self._real.serial
        counter.login_attempts += 1
        left = counter.left.get(serial, counter.tries)
        if left == 0:
            raise pkcs11.PinLocked()
        try:
            session = self._real.open(user_pin=user_pin, **kwargs)
        except pkcs11.PinIncorrect:
            counter.left[serial] = left - 1
            raise
        counter.left[serial] = counter.tries
        return session
