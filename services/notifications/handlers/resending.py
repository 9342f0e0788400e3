"""The delivery log as people see it: one delivery (officers: their institution's only), and an
operator's resend of a failed or dead one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from esign.auth import Principal, Role
from esign.clock import Clock
from esign.problems import NotFound
from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.domain.delivery import RESENDABLE, DeliveryRecord
from services.notifications.handlers.errors import NotResendable, RecipientRemoved


async def visible_delivery(
    uow: NotificationsUnitOfWork, principal: Principal, delivery_id: uuid.UUID
) -> DeliveryRecord:
    """Missing and another institution's answer alike (``NotFound``)."""
    delivery = await uow.deliveries.get(delivery_id)
    if delivery is None:
        raise NotFound("delivery")
    # A delivery of no institution (none so far) is the operators' alone.
    if delivery.institution_id is None:
        visible = principal.role is Role.CA_OPERATOR
    else:
        visible = principal.can_see_institution(delivery.institution_id)
    if not visible:
        raise NotFound("delivery")
    return delivery


@dataclass(frozen=True, kw_only=True)
class ResendDelivery:
    delivery_id: uuid.UUID


async def resend_delivery(
    command: ResendDelivery,
    uow: NotificationsUnitOfWork,
    *,
    principal: Principal,
    clock: Clock,
    wake_sender: Callable[[], None] | None = None,
) -> DeliveryRecord:
    """Failed or dead -> queued again with a fresh attempt count: the same message (same
    Message-ID / reference), sent by the worker as soon as this commits."""
    requeued = await uow.deliveries.requeue(command.delivery_id, clock.now())
    if requeued is None:
        current = await visible_delivery(uow, principal, command.delivery_id)
        if current.contact_masked_at is not None:
            raise RecipientRemoved(
                "Its contact data was masked after its retention period; there is nowhere to send it."
            )
        raise NotResendable(
            f"This delivery is {current.status}.",
            current_status=current.status,
            resendable=sorted(s.value for s in RESENDABLE),
        )
    if wake_sender is not None:
        uow.after_commit(wake_sender)
    return requeued
