"""JetStream connection and stream setup. One stream per producing service: ``<SERVICE>`` with
subjects ``<service>.>``, file storage, and a duplicate window that covers relay retries."""

from __future__ import annotations

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

DUPLICATE_WINDOW_SECONDS = 600.0


def stream_name(producer: str) -> str:
    return producer.upper()


async def connect(url: str, name: str) -> NATS:
    return await nats.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=1)


async def ensure_stream(js: JetStreamContext, producer: str) -> None:
    config = StreamConfig(
        name=stream_name(producer),
        subjects=[f"{producer}.>"],
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError:
            # Another replica created it between our look and our add.
            await js.stream_info(config.name)
