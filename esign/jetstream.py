"""JetStream connection and stream setup. One stream per producing service: ``<SERVICE>`` with
subjects ``<service>.>``, file storage, a duplicate window that covers relay retries, and a
maximum age after which JetStream drops a message (the events hold contact data; docs/personal-data.md).

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
# A message older than this is dropped from the stream: long enough for a consumer to be down a
# week and catch up, far beyond the duplicate window (ServiceSettings.stream_max_age_days).
DEFAULT_MAX_AGE_SECONDS = 14 * 86400.0

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


async def ensure_stream(
    js: JetStreamContext, producer: str, *, replicas: int = 1, max_age: float = DEFAULT_MAX_AGE_SECONDS
) -> None:
    """Creates the producer's stream if missing; a stream kept on fewer or more servers than asked
    is scaled to ``replicas`` (JetStream moves the data itself), and one with another maximum age
    (or none, as streams made before it was set) gets ``max_age`` seconds."""
    if max_age <= DUPLICATE_WINDOW_SECONDS:
        raise ValueError(f"a stream's max age must exceed its duplicate window ({DUPLICATE_WINDOW_SECONDS} s)")
    name = stream_name(producer)
    config = StreamConfig(
        name=name,
        subjects=[f"{producer}.>"],
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
        max_age=max_age,
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
    was_age = info.config.max_age or 0.0
    if info.config.num_replicas != replicas or abs(was_age - max_age) > 0.001:
        log.info(
            "stream_updated",
            stream=name,
            replicas=replicas,
            was=info.config.num_replicas,
            max_age=max_age,
            was_age=was_age,
        )
        await js.update_stream(config)
