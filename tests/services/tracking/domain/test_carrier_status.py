from __future__ import annotations

import pytest

from services.tracking.domain.carrier_status import normalise
from services.tracking.domain.shipment import Status


@pytest.mark.parametrize(
    "word,status",
    [
        ("PICKED_UP", Status.HANDED_TO_COURIER),
        ("Kargoya Verildi", Status.HANDED_TO_COURIER),
        ("in-transit", Status.IN_TRANSIT),
        ("TRANSFER_MERKEZİNDE", Status.IN_TRANSIT),
        ("DAĞITIMDA", Status.OUT_FOR_DELIVERY),
        ("out for delivery", Status.OUT_FOR_DELIVERY),
        ("TESLİM EDİLDİ", Status.DELIVERED),
        ("delivered", Status.DELIVERED),
        ("TESLIM_EDILEMEDI", Status.DELIVERY_FAILED),
        ("attempt_failed", Status.DELIVERY_FAILED),
        ("İADE", Status.RETURNED),
        ("returned_to_sender", Status.RETURNED),
        ("created", Status.CREATED),
    ],
)
def test_carrier_words_map_to_normalised_statuses(word, status):
    assert normalise(word) is status


@pytest.mark.parametrize("word", ["", "LOST", "GUMRUKTE", "delivered?"])
def test_unknown_words_are_not_guessed(word):
    assert normalise(word) is None
