"""Configuration of the applications service (environment variables prefixed ESIGN_APPLICATIONS_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from esign.settings import ServiceSettings


class ApplicationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ESIGN_APPLICATIONS_", extra="ignore")

    port: int = 8001
    applicant_token_secret: SecretStr | None = Field(
        None,
        description=(
            "HS256 key for applicant session tokens; must be the same on every replica. Unset: random per process."
        ),
    )
    applicant_token_minutes: int = 30
    invitation_days: int = Field(30, description="How long an invitation link and password stay valid.")
    sign_in_max_attempts: int = Field(5, description="Wrong passwords before an invitation is locked.")
    sign_in_lockout_minutes: int = 15
    notifications_public_key: str | None = Field(
        None,
        description="Base64 X25519 public key of the notifications service; invitation secrets are sealed with it.",
    )
    portal_url: str = Field("http://localhost:8001/apply", description="Base of the link e-mailed to applicants.")
    roster_max_bytes: int = 5 * 1024 * 1024
    # Every request body: room for the largest staff list and a multipart envelope around it.
    max_body_bytes: int = Field(
        5 * 1024 * 1024 + 64 * 1024, description="Largest request body accepted (413 above it)."
    )
    roster_max_rows: int = 20_000
    invitation_issue_batch: int = 100
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19_456  # OWASP's Argon2id baseline
    pdf_font_dir: Path | None = None
