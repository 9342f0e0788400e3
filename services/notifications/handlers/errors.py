"""Why an operator's resend is refused (409, each with its stable code). Missing deliveries are
esign.problems.NotFound, like everywhere."""

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
