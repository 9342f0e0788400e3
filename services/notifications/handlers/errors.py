"""The notifications service's own refusals; the common ones (NotFound, Conflict, Invalid) are
esign.problems', and every service app renders all of them."""

from __future__ import annotations

from esign.problems import Refusal


class NotResendable(Refusal):
    status = 409
    code = "not_resendable"
    title = "Only failed or dead deliveries can be resent"


class RecipientRemoved(Refusal):
    status = 409
    code = "recipient_removed"
    title = "The recipient of this delivery was removed"
