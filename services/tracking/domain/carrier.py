"""What the service needs from a carrier (the port); the adapters live in ``adapters/carriers.py``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class Parcel:
    """What the carrier must know to pick up and deliver: the card and reader to one person."""

    shipment_id: uuid.UUID  # the idempotency key: registering twice yields the same tracking number
    recipient_name: str
    mobile: str
    delivery_address: dict[str, Any]
    contents: dict[str, Any]
    id_check_required: bool = True  # the courier must see the recipient's ID at the door


class CarrierError(Exception):
    """The carrier did not register the parcel; ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Carrier(Protocol):
    name: str

    async def register(self, parcel: Parcel) -> str:
        """Registers the parcel and returns its tracking number; raises ``CarrierError``."""
        ...
