"""Finding a card by its id when cards change readers.

The agent asks the slot a card was last seen in before it lists every slot. SoftHSM2 keeps a
token in the same slot for its whole life, so swapping cards between two readers is shown with
a fake module here: two slots, cards moved between them by the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pkcs11
from esign_agent.presets import card_types
from esign_agent.tokens import TokenStore
from pkcs11 import TokenFlag


@dataclass
class _Card:
    serial: bytes
    label: str
    flags: int = TokenFlag.TOKEN_INITIALIZED
    model: str = "fake"
    manufacturer_id: str = "esign tests"


@dataclass
class _Reader:
    slot_id: int
    module: _Module

    def get_token(self) -> _Card:
        self.module.token_info_calls += 1
        card = self.module.cards.get(self.slot_id)
        if card is None:
            raise pkcs11.TokenNotPresent()
        return card


@dataclass
class _Module:
    cards: dict[int, _Card] = field(default_factory=dict)  # slot id -> card in that reader
    initialized: bool = True
    slot_list_calls: int = 0
    token_info_calls: int = 0

    def get_slots(self, token_present: bool = False) -> list[Any]:
        self.slot_list_calls += 1
        return [_Reader(slot_id, self) for slot_id in sorted(self.cards)]


def _store(module: _Module) -> TokenStore:
    # The configured path must exist for the module to be loaded; the loader ignores it.
    store = TokenStore(card_types(("softhsm",), {"softhsm": __file__}), lambda _: module)
    store.load()
    return store


def _slot_of(store: TokenStore, token_id: str) -> int | None:
    found = store._find(token_id)
    return None if found is None else found[3].slot_id


def test_a_card_still_in_its_reader_is_found_with_one_token_info_and_no_slot_list():
    module = _Module({1: _Card(b"A1", "a"), 2: _Card(b"B2", "b")})
    store = _store(module)
    assert _slot_of(store, "softhsm:B2") == 2
    module.slot_list_calls = module.token_info_calls = 0

    assert _slot_of(store, "softhsm:B2") == 2
    assert (module.slot_list_calls, module.token_info_calls) == (0, 1)


def test_cards_swapped_between_readers_are_found_in_their_new_slots():
    a, b = _Card(b"A1", "a"), _Card(b"B2", "b")
    module = _Module({1: a, 2: b})
    store = _store(module)
    assert (_slot_of(store, "softhsm:A1"), _slot_of(store, "softhsm:B2")) == (1, 2)

    module.cards = {1: b, 2: a}  # the last-known slot now holds the other card
    assert (_slot_of(store, "softhsm:A1"), _slot_of(store, "softhsm:B2")) == (2, 1)


def test_a_card_taken_out_is_not_found_and_its_reader_is_forgotten():
    module = _Module({1: _Card(b"A1", "a")})
    store = _store(module)
    assert _slot_of(store, "softhsm:A1") == 1

    module.cards = {}
    assert _slot_of(store, "softhsm:A1") is None
    module.cards = {3: _Card(b"A1", "a")}  # back in, in another reader
    assert _slot_of(store, "softhsm:A1") == 3


def test_the_pin_status_comes_from_the_card_every_time():
    card = _Card(b"A1", "a")
    store = _store(_Module({1: card}))
    assert _slot_of(store, "softhsm:A1") == 1

    card.flags |= TokenFlag.USER_PIN_LOCKED
    found = store._find("softhsm:A1")
    assert found is not None and found[3].pin.locked
