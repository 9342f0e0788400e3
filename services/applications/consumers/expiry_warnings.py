"""The applications service's view of the notifications service's stream."""

from esign.consumer import ConsumerSpec
from esign.events import ExpiryWarned
from services.applications.handlers.expiry_warnings import on_expiry_warned

EXPIRY_WARNINGS = ConsumerSpec(
    name="applications-expiry-warnings",
    producer="notifications",
    handlers={ExpiryWarned.type: on_expiry_warned},
)
