"""Publishing an event as another service's outbox relay does: on its producer's stream, with the
event id as ``Nats-Msg-Id``."""

from __future__ import annotations

import uuid

from nats.js import JetStreamContext

from esign import jetstream
from esign.events import Envelope, EventData


async def publish(
    js: JetStreamContext, event: EventData, producer: str, *, event_id: uuid.UUID | None = None
) -> Envelope:
    await jetstream.ensure_stream(js, producer)
    envelope = Envelope.wrap(event, producer, event_id=event_id)
    await js.publish(envelope.subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": str(envelope.id)})
    return envelope
