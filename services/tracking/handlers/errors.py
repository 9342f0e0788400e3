"""Refusals raised by the handlers; api/errors.py turns them into problem details."""

from __future__ import annotations

from esign.problems import Refusal


class HandlerError(Refusal):
    pass


class NotFound(HandlerError):
    status = 404
    code = "not_found"


class WebhookReplayed(HandlerError):
    status = 409
    code = "webhook_replayed"


class WebhookPayloadInvalid(HandlerError):
    status = 422
    code = "webhook_payload_invalid"


class NotSimulated(HandlerError):
    status = 409
    code = "carrier_not_simulated"


class NothingToAdvance(HandlerError):
    status = 409
    code = "shipment_final"
