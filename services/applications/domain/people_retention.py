"""When a person's data has served its purpose (KVKK: kept only as long as the purpose lasts).

The platform holds a person for their applications. A person is erased when every application of
theirs has ended and its period has passed:

- ended **without a certificate**: rejected, withdrawn or (a renewal) expired and not moved since,
  or never filled in and its invitation expired (only the officer's re-issue, a new invitation,
  could revive it) — ``without_certificate`` after that moment (the last change, or the
  invitation's expiry);
- ended **with a certificate**: ``after_certificate`` after the certificate's end (its
  ``not_after``), so renewal, expiry warnings and support questions are served while it is valid.

Anything else (a form completed and waiting for its signed paper, one at the CA, a renewal under
way) is still in its purpose, however old. What the CA must keep by law about the certificates it
issued is the CA's own record, not this platform's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.applications.domain.application import Status

ENDED_WITHOUT_CERTIFICATE = frozenset({Status.REJECTED, Status.WITHDRAWN, Status.EXPIRED})
WAITING_FOR_APPLICANT = frozenset({Status.INVITED, Status.FORM_IN_PROGRESS})


@dataclass(frozen=True)
class PeopleRetention:
    without_certificate: timedelta
    after_certificate: timedelta
