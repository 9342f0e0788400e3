"""Configuration of the notifications service (environment variables prefixed ESIGN_NOTIFICATIONS_)."""

from __future__ import annotations

import enum
import tempfile
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from esign.settings import ServiceSettings
from services.notifications.domain.reminders import DigestPeriod, parse_steps


class SmtpSecurity(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class SmsProviderKind(enum.StrEnum):
    SINK = "sink"
    HTTP = "http"


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ESIGN_NOTIFICATIONS_", extra="ignore")

    port: int = 8002
    seal_private_key: SecretStr | None = Field(
        None, description="Base64 X25519 private key that opens invitation credentials. Unset: invitations fail (dead)."
    )

    # E-mail
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: SmtpSecurity = SmtpSecurity.NONE
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(
        20.0, description="Seconds for one SMTP conversation; keep well under delivery_lease_seconds."
    )
    mail_from: str = "Kamu SM e-imza <noreply@esign.localhost>"

    # SMS
    sms_provider: SmsProviderKind = SmsProviderKind.SINK
    sms_sink_dir: Path = Field(
        Path(tempfile.gettempdir()) / "esign-sms",
        description="Where the sink writes one readable file per SMS (+ sms.jsonl); `esign up` "
        "points it into its data directory.",
    )
    sms_http_url: str | None = Field(None, description="The provider's JSON send endpoint.")
    sms_http_username: str | None = None
    sms_http_password: SecretStr | None = None
    sms_http_timeout: float = 10.0
    sms_originator: str = Field("KAMUSM", description="The registered SMS header (originator) shown as sender.")

    # Delivery worker
    delivery_poll_seconds: float = Field(1.0, description="Idle wait between looks for due deliveries.")
    delivery_batch: int = 20
    delivery_lease_seconds: float = Field(120.0, description="A claimed delivery is not retaken before this.")
    delivery_max_attempts: int = 8
    delivery_backoff_seconds: float = Field(30.0, description="First retry delay; doubles per attempt, with jitter.")
    delivery_backoff_cap_seconds: float = 3600.0
    delivery_log_keep_days: float = Field(
        90.0,
        gt=0,
        description="Days a finished delivery keeps its recipient in the clear (support), then it is masked.",
    )

    # Expiry reminders and officer digests
    reminder_days: str = Field("40,14,3", description="Days before expiry on which the holder is warned.")
    scheduler_interval_seconds: float = Field(300.0, description="How often the reminder scheduler looks.")
    digest_period: DigestPeriod = DigestPeriod.WEEKLY
    digest_window_days: int = Field(60, description="Officer digests list certificates expiring within this many days.")

    shipment_query_url: str = Field(
        "http://localhost:8003/gonderi-sorgulama",
        description="Public 'Gönderi Sorgulama' page, when an event names none.",
    )
    renewal_page_url: str = Field(
        "http://localhost:8001/renew",
        description="The renewal page (the applications service's `/renew`) that expiry warnings link to.",
    )
    default_locale: str = "tr"

    @field_validator("reminder_days")
    @classmethod
    def _steps(cls, value: str) -> str:
        parse_steps(value)
        return value

    @property
    def reminder_steps(self) -> tuple[int, ...]:
        return parse_steps(self.reminder_days)
