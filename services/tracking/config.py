"""Configuration of the tracking service (environment variables prefixed ESIGN_TRACKING_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from esign.settings import ServiceSettings


class TrackingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ESIGN_TRACKING_", extra="ignore")

    port: int = 8003
    carrier: Literal["simulated", "http"] = Field(
        "simulated", description="`simulated` (local runs, tests) or `http` (a carrier with an HTTP API and webhooks)."
    )
    carrier_names: dict[str, str] = Field(
        default_factory=lambda: {"simulated": "Deneme Kargo", "http": "Anlaşmalı Kargo"},
        description="What the holder is told for each carrier (JSON object, e.g. "
        '`{"http": "PTT Kargo"}`): the internal names never reach an SMS or e-mail.',
    )
    simulated_step_seconds: float = Field(
        20.0,
        description="The simulated courier moves each parcel one step after this many seconds; 0 = only by command.",
    )
    carrier_http_url: str | None = Field(
        None, description="Base URL of the HTTP carrier's API (`POST {url}/shipments`)."
    )
    carrier_http_api_key: SecretStr | None = Field(None, description="Bearer key for the HTTP carrier's API.")
    carrier_http_timeout_seconds: float = 10.0
    webhook_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key shared with the carrier for status webhooks; the same on every replica. "
        "Unset: random per process (only the simulated carrier can sign then).",
    )
    webhook_tolerance_seconds: int = Field(
        300, description="Webhook timestamps further than this from our clock are refused."
    )
    public_query_url: str = Field(
        "http://localhost:8003/gonderi-sorgulama",
        description="The public query page; `?takip=<tracking no>` is added in handed-to-courier events.",
    )
    stuck_after_working_days: int = Field(
        10, description="Handed over but not delivered or returned after this many working days: stuck."
    )
    stuck_check_seconds: float = Field(300.0, description="How often the stuck detector looks.")
    registration_lease_seconds: int = Field(
        60, description="How long a worker owns a shipment while registering it with the carrier."
    )
    registration_batch: int = 20
    public_query_limit: int = Field(
        10, description="Public queries allowed per client address per window (all replicas together)."
    )
    public_query_window_seconds: int = 60
    public_query_number_limit: int = Field(
        10,
        description="Public queries allowed per tracking number per number window, from any address (all "
        "replicas together): guessing a parcel's four digits from many addresses stays slow.",
    )
    public_query_number_window_seconds: int = Field(3600, description="The per-tracking-number window.")
    recipient_keep_days: float = Field(
        30.0,
        gt=0,
        description="Days after delivery the recipient's name, mobile and address are kept (support, complaints), "
        "then removed.",
    )

    def carrier_name(self, carrier: str) -> str:
        # A carrier left out of the map gets a plain word rather than its internal name.
        return self.carrier_names.get(carrier) or "Kargo"
