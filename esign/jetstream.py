"""JetStream connection and stream setup. One stream per producing service: ``<SERVICE>`` with
subjects ``<service>.>``, file storage, and a duplicate window that covers relay retries.

A NATS URL may name several servers (``nats://a:4222,nats://b:4222``), the members of a cluster:
the client connects to one and moves to another when it dies. Streams are kept on ``replicas``
servers (1 on a single server; 3 on a production cluster, so one node's loss loses nothing and
stops nothing; docs/deploy.md).
"""

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


def server_urls(url: str) -> list[str]:
    return [u.strip() for u in url.split(",") if u.strip()]


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
        server_urls(url),
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        error_cb=error,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
    )


async def ensure_stream(js: JetStreamContext, producer: str, *, replicas: int = 1) -> None:
    """Creates the producer's stream if missing; a stream kept on fewer or more servers than asked
    is scaled to ``replicas`` (JetStream moves the data itself)."""
    name = stream_name(producer)
    config = StreamConfig(
        name=name,
        subjects=[f"{producer}.>"],
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError:
            # Another replica created it between our look and our add.
            await js.stream_info(name)
        return
    if info.config.num_replicas != replicas:
        log.info("stream_rescaled", stream=name, replicas=replicas, was=info.config.num_replicas)
        await js.update_stream(config)
