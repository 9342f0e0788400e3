"""FastAPI dependencies of the tracking API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from esign.auth import Principal, Role, require
from esign.service import read_only_unit_of_work, unit_of_work
from services.tracking.adapters.carriers import SimulatedCarrier
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.config import TrackingSettings
from services.tracking.handlers.carrier_events import WebhookPolicy

UoW = Annotated[TrackingUnitOfWork, unit_of_work]
ReadOnlyUoW = Annotated[TrackingUnitOfWork, read_only_unit_of_work]
Operator = Annotated[Principal, Depends(require(Role.CA_OPERATOR))]


def settings(request: Request) -> TrackingSettings:
    return request.app.state.settings


def webhook_policy(request: Request) -> WebhookPolicy:
    return request.app.state.webhook_policy


def simulated_carrier(request: Request) -> SimulatedCarrier | None:
    return request.app.state.simulated_carrier


def wake_registrar(request: Request) -> Callable[[], None]:
    return request.app.state.workers.wake_registrar


Settings = Annotated[TrackingSettings, Depends(settings)]
Policy = Annotated[WebhookPolicy, Depends(webhook_policy)]
Simulated = Annotated[SimulatedCarrier | None, Depends(simulated_carrier)]
WakeRegistrar = Annotated[Callable[[], None], Depends(wake_registrar)]
