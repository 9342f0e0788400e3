"""FastAPI dependencies of the tracking API."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from esign.auth import Principal, Role, require
from esign.service import unit_of_work
from services.tracking.adapters.carriers import SimulatedCarrier
from services.tracking.adapters.uow import TrackingUnitOfWork
from services.tracking.config import TrackingSettings
from services.tracking.handlers.carrier_events import WebhookPolicy

UoW = Annotated[TrackingUnitOfWork, unit_of_work]
Operator = Annotated[Principal, Depends(require(Role.CA_OPERATOR))]


def settings(request: Request) -> TrackingSettings:
    return request.app.state.settings


def webhook_policy(request: Request) -> WebhookPolicy:
    return request.app.state.webhook_policy


def simulated_carrier(request: Request) -> SimulatedCarrier | None:
    return request.app.state.simulated_carrier


def clock(request: Request) -> datetime:
    return request.app.state.clock.now()


Settings = Annotated[TrackingSettings, Depends(settings)]
Policy = Annotated[WebhookPolicy, Depends(webhook_policy)]
Simulated = Annotated[SimulatedCarrier | None, Depends(simulated_carrier)]
Now = Annotated[datetime, Depends(clock)]


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The caller's address. X-Forwarded-For is believed only when the direct peer is a configured
    proxy, and then the right-most hop that is not one of ours is the client."""
    peer = request.client.host if request.client else "unknown"
    networks = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in n for n in networks)

    if not networks or not trusted(peer):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            return hop
    return peer
