"""Configuration shared by every service, read from the environment by pydantic-settings.
Each service subclasses ``ServiceSettings`` with its own ``env_prefix`` (e.g. ``ESIGN_APPLICATIONS_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotConfigured(ValueError):
    """A setting the service cannot run without is missing, and nothing asked for a stand-in."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: SecretStr | None = Field(
        None, description="PostgreSQL URL. Unset: the service refuses to start, unless `ephemeral` is true."
    )
    nats_url: str | None = Field(
        None,
        description="NATS server URL, or the URLs of a cluster's members separated by commas. "
        "Unset: the service refuses to start, unless `ephemeral` is true.",
    )
    # Explicit, per service: a forgotten DATABASE_URL in a deployment must stop the service, not
    # start it on an empty database that vanishes (with every record) when the pod restarts.
    ephemeral: bool = Field(
        False,
        description="Local experiments only: for an unset database_url / nats_url start a throwaway embedded "
        "PostgreSQL / nats-server, gone when the process stops (needs the `dev` extra). Never in a deployment.",
    )
    stream_replicas: int = Field(
        1,
        ge=1,
        le=5,
        description="Servers that keep this service's stream: 1 on a single nats-server, 3 on a "
        "production cluster (one node's loss then loses and stops nothing).",
    )
    stream_max_age_days: float = Field(
        14.0,
        ge=1,
        description="Days JetStream keeps a message of this service's stream, then drops it (events carry contact "
        "data). Longer than any consumer outage to be survived; no longer than PROCESSED_EVENTS_KEEP_DAYS, so a "
        "message still in the stream is never one a consumer has forgotten handling. Applied to an existing stream "
        "at start.",
    )
    # Two pools per process: writes (and the relay, consumers, workers) and reads (GET/HEAD).
    # Overflow is 0 by default: SQLAlchemy closes an overflow connection as it comes back, so a load
    # that stays above the pool size reconnects all the time (at 32 concurrent reads with 10 + 5,
    # about 35 new PostgreSQL backends a second, a third of the read throughput; docs/benchmarks.md).
    db_pool_size: int = Field(
        15,
        ge=1,
        description="Connections each of the process's two pools (writes, reads) keeps open once it has needed "
        "them; past it (and DB_MAX_OVERFLOW), a request waits for a connection. Size it for a replica's "
        "concurrency: a connection past it is opened for one use and closed again, which costs PostgreSQL a new "
        "backend process and the client its set-up (under load, the dearest part of a read).",
    )
    db_max_overflow: int = Field(
        0,
        ge=0,
        description="Connections each pool may open beyond DB_POOL_SIZE for a rare burst, each closed as it is "
        "returned (so not for a load that lasts). At most (DB_POOL_SIZE + DB_MAX_OVERFLOW) x 2 per replica: "
        "within PostgreSQL's max_connections for every replica of every service.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(
        1024 * 1024, description="Largest request body accepted (413 above it), counted as it is read."
    )

    # Auth. Locally: HS256 with a shared secret (tokens minted by `esign token`).
    # Production: set oidc_issuer + oidc_jwks_url and the services verify the issuer's signatures.
    jwt_secret: SecretStr | None = None
    jwt_audience: str = "esign"
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_role_claim: str = "esign_role"

    # Events.
    relay_poll_interval: float = Field(0.5, description="Seconds between outbox polls when idle.")
    consumer_max_deliver: int = Field(6, description="Deliveries before a message is dead-lettered.")
    consumer_ack_wait: float = Field(30.0, description="Seconds JetStream waits for an ack before redelivering.")
    consumer_outage_max_delay: float = Field(
        10.0,
        gt=0,
        description="Longest pause, in seconds, between a consumer's checks whether an unreachable database is back "
        "(from 0.1 s, doubling). An outage uses up no event's deliveries, however long it lasts.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed (JSON list). Empty: never.",
    )
    run_background_workers: bool = Field(True, description="Run the outbox relay and consumers inside the API process.")

    # Retention (docs/personal-data.md). Both at least JetStream's duplicate window (10 minutes).
    outbox_keep_hours: float = Field(
        168.0, ge=1, description="Hours a published outbox row is kept (to trace what went out), then pruned."
    )
    processed_events_keep_days: float = Field(
        30.0, ge=1, description="Days a consumer remembers an event it handled (redelivery guard), then forgets it."
    )
    dead_letters_keep_days: float = Field(
        30.0,
        gt=0,
        description="Days a dead letter keeps the failed message (it may hold an event's contact data); then the "
        "payload is removed and the row stays (which consumer failed on which event, why, when), no longer replayable.",
    )
    retention_interval_seconds: float = Field(
        3600.0, gt=0, description="Seconds between retention passes (each replica tries; one does each pass)."
    )

    @model_validator(mode="after")
    def _stream_outlives_no_consumer_memory(self) -> ServiceSettings:
        # A message older than the consumers' memory of it could be taken for new (a consumer
        # recreated, a redelivery): the stream must forget it first.
        if self.stream_max_age_days > self.processed_events_keep_days:
            raise ValueError("stream_max_age_days must not exceed processed_events_keep_days")
        return self

    def backend_urls(self) -> tuple[str | None, str | None]:
        """The database and NATS URLs; None stands for a throwaway one, which only ``ephemeral``
        allows: otherwise a missing URL refuses the start and names the setting to give."""
        database = (self.database_url.get_secret_value() if self.database_url else None) or None
        nats = self.nats_url or None  # an empty value in the environment is no URL either
        missing = [name for name, url in (("DATABASE_URL", database), ("NATS_URL", nats)) if url is None]
        if missing and not self.ephemeral:
            prefix = self.model_config.get("env_prefix", "")
            raise NotConfigured(
                f"{' and '.join(prefix + name for name in missing)} not set: give the service its "
                f"{' and '.join(_WHAT[name] for name in missing)}, or set {prefix}EPHEMERAL=true for a "
                "throwaway stand-in (local experiments only: gone, with its data, when the process stops)"
            )
        return database, nats


_WHAT = {"DATABASE_URL": "PostgreSQL", "NATS_URL": "NATS server"}
