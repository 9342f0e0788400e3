"""FastAPI dependencies of the notifications API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from esign.auth import Principal, Role, require
from esign.service import unit_of_work
from services.notifications.adapters.templates import Renderer
from services.notifications.adapters.uow import NotificationsUnitOfWork

UoW = Annotated[NotificationsUnitOfWork, unit_of_work]

Operator = Annotated[Principal, Depends(require(Role.CA_OPERATOR))]
Staff = Annotated[Principal, Depends(require(Role.CA_OPERATOR, Role.INSTITUTION_OFFICER))]


def renderer(request: Request) -> Renderer:
    return request.app.state.renderer


TemplateRenderer = Annotated[Renderer, Depends(renderer)]


def wake_sender(request: Request) -> Callable[[], None]:
    return request.app.state.workers.wake_sender


WakeSender = Annotated[Callable[[], None], Depends(wake_sender)]
