"""Refusals raised by handlers; the API layer maps each to a problem response."""

from __future__ import annotations

from esign.problems import Refusal


class HandlerError(Refusal):
    pass


class NotFound(HandlerError):
    status = 404
    code = "not_found"

    def __init__(self, what: str) -> None:
        # Missing and not-yours answer alike, so nobody can probe another institution's ids.
        super().__init__(f"No {what} with that id is visible to you.")


class Conflict(HandlerError):
    status = 409

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message, **extra)
        self.code = code


class Invalid(HandlerError):
    status = 422
    code = "validation_failed"


class RosterRejected(HandlerError):
    status = 422
    code = "roster_invalid"
