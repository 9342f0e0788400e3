"""The applications service's own refusals; the common ones (NotFound, Conflict, Invalid) are
esign.problems', and every service app renders all of them."""

from __future__ import annotations

from esign.problems import Refusal


class RosterRejected(Refusal):
    status = 422
    code = "roster_invalid"
    title = "The staff list has errors; nothing was stored"
