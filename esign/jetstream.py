"""JetStream connection and stream setup. One stream per producing service: ``<SERVICE>`` with
subjects ``<service>.>``, file storage, and a duplicate window that covers relay retries."""

from __future__ import annotations

import nats
import structlog
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

DUPLICATE_WINDOW_SECONDS = 600.0

log = structlog.get_logger("esign.nats")


def stream_name(producer: str) -> str:
    return producer.upper()


async def connect(url: str, name: str) -> NATS:
    # nats-py's default error callback prints a multi-line traceback for every failed reconnect;
    # during an outage one JSON line per event says all there is to say.
    async def error(exc: Exception) -> None:
        log.warning("nats_error", connection=name, error=f"{type(exc).__name__}: {exc}")

    async def disconnected() -> None:
        log.warning("nats_disconnected", connection=name)

    async def reconnected() -> None:
        log.info("nats_reconnected", connection=name)

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        error_cb=error,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
    )


async def ensure_stream(js: JetStreamContext, producer: str) -> None:
    config = StreamConfig(
        name=stream_name(producer),
        subjects=[f"{producer}.>"],
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    try:
        await js.stream_info(stream_name(producer))
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError:
            # Another replica created it between our look and our add.
            await js.stream_info(stream_name(producer))
