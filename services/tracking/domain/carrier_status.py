"""A carrier's own status words -> our normalised statuses.

Carriers name the same step differently (English codes, Turkish ones, with or without
separators). Unknown words are not guessed: the raw event is kept and nothing moves.
"""

from __future__ import annotations

import re

from services.tracking.domain.shipment import Status

_WORDS: dict[Status, tuple[str, ...]] = {
    Status.CREATED: ("created", "registered", "label_created", "olusturuldu"),
    Status.HANDED_TO_COURIER: (
        "handed_to_courier",
        "picked_up",
        "accepted",
        "handed_over",
        "kargoya_verildi",
        "teslim_alindi",
    ),
    Status.IN_TRANSIT: (
        "in_transit",
        "at_hub",
        "transfer",
        "arrived_at_branch",
        "yolda",
        "transfer_merkezinde",
        "subede",
    ),
    Status.OUT_FOR_DELIVERY: ("out_for_delivery", "on_vehicle", "dagitimda", "kuryede"),
    Status.DELIVERED: ("delivered", "teslim_edildi"),
    Status.DELIVERY_FAILED: ("delivery_failed", "attempt_failed", "not_delivered", "teslim_edilemedi"),
    Status.RETURNED: ("returned", "returned_to_sender", "iade", "iade_edildi", "gondericiye_iade"),
}
_LOOKUP = {word: status for status, words in _WORDS.items() for word in words}
_TR = str.maketrans("çğıöşüÇĞİÖŞÜ", "cgiosuCGIOSU")


def normalise(carrier_status: str) -> Status | None:
    key = re.sub(r"[\s\-.]+", "_", carrier_status.strip().translate(_TR).lower())
    return _LOOKUP.get(key)
