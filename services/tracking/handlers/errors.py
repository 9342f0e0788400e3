"""The tracking service's own refusals; the common ones (NotFound, Conflict, Invalid) are
esign.problems', and every service app renders all of them."""

from __future__ import annotations

from esign.problems import Refusal


class WebhookReplayed(Refusal):
    status = 409
    code = "webhook_replayed"
    title = "Webhook replayed"


class WebhookPayloadInvalid(Refusal):
    status = 422
    code = "webhook_payload_invalid"
    title = "Webhook payload not readable"


class NotSimulated(Refusal):
    status = 409
    code = "carrier_not_simulated"
    title = "Not the simulated carrier"


class NothingToAdvance(Refusal):
    status = 409
    code = "shipment_final"
    title = "Nothing more to report"


class NotReturned(Refusal):
    status = 409
    code = "shipment_not_returned"
    title = "Not returned to the sender"


class AlreadyShippedAgain(Refusal):
    status = 409
    code = "shipment_already_reshipped"
    title = "Already shipped again"
