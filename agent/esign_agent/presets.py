"""Card types: which PKCS#11 module drives a card, per operating system.

A preset lists the usual places a vendor's installer puts its module; the configuration file
can override a preset's path or add card types of its own (``[modules]``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass


def current_os() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def _windows_dirs() -> tuple[str, str]:
    root = os.environ.get("SystemRoot", r"C:\Windows")  # noqa: SIM112 - Windows spells it so
    # A 32-bit Python on 64-bit Windows is redirected from System32 to SysWOW64 by the OS, so
    # System32 is right for both; SysWOW64 is listed so doctor can spot a 32-bit-only install.
    return rf"{root}\System32", rf"{root}\SysWOW64"


def _preset_paths(card_type: str, os_name: str) -> tuple[str, ...]:
    if card_type == "akis":
        if os_name == "windows":
            return tuple(rf"{d}\akisp11.dll" for d in _windows_dirs())
        if os_name == "macos":
            return ("/usr/local/lib/libakisp11.dylib",)
        return ("/usr/lib/libakisp11.so", "/usr/local/lib/libakisp11.so")
    if card_type == "softhsm":
        if os_name == "windows":
            return (r"C:\SoftHSM2\lib\softhsm2-x64.dll", r"C:\SoftHSM2\lib\softhsm2.dll")
        if os_name == "macos":
            return (
                "/opt/homebrew/lib/softhsm/libsofthsm2.so",
                "/usr/local/lib/softhsm/libsofthsm2.so",
            )
        return (
            "/usr/lib/softhsm/libsofthsm2.so",
            "/usr/local/lib/softhsm/libsofthsm2.so",
            "/usr/lib64/softhsm/libsofthsm2.so",
        )
    raise KeyError(card_type)


PRESET_LABELS = {
    "akis": "AKİS (TÜBİTAK)",
    # A software token for tests and demos; never enabled unless asked for.
    "softhsm": "SoftHSM2 (test token)",
}


@dataclass(frozen=True)
class CardType:
    id: str
    label: str
    candidates: tuple[str, ...]  # module paths to try, in order

    def module_path(self) -> str | None:
        """The first candidate that exists, or None."""
        return next((p for p in self.candidates if os.path.isfile(p)), None)


def card_types(
    enabled: tuple[str, ...],
    modules: Mapping[str, str],
    os_name: str | None = None,
) -> list[CardType]:
    """Card types to load: the enabled ones, plus every one given a module path."""
    os_name = os_name or current_os()
    result: list[CardType] = []
    for card_id in dict.fromkeys((*enabled, *modules)):  # ordered, without duplicates
        if card_id in modules:
            candidates: tuple[str, ...] = (modules[card_id],)
        elif card_id in PRESET_LABELS:
            candidates = _preset_paths(card_id, os_name)
        else:
            raise KeyError(card_id)
        result.append(CardType(card_id, PRESET_LABELS.get(card_id, card_id), candidates))
    return result
