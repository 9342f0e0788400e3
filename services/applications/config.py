"""Configuration of the applications service (environment variables prefixed ESIGN_APPLICATIONS_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from esign.console.settings import ConsoleSettings
from esign.settings import ServiceSettings


class ApplicationsSettings(ServiceSettings, ConsoleSettings):
    """The service's own settings and the staff console's, which it hosts (esign.routes.SIGN_IN_SERVICE)."""

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
    field_keys: SecretStr | None = Field(
        None,
        description="AES-256-GCM keys that encrypt the TC Kimlik No and birth date at rest: `id:base64key`, "
        "comma-separated, the first encrypts (put a new one first to rotate; keep the old ones until re-encrypted). "
        "Same on every replica. Unset: random per process, only with the throwaway embedded database.",
    )
    field_lookup_key: SecretStr | None = Field(
        None,
        description="Base64 HMAC-SHA256 key (32+ bytes) for the keyed hash the TC Kimlik No is found and kept unique "
        "by. Same on every replica; changing it needs every hash recomputed.",
    )
    people_keep_days_without_certificate: float = Field(
        180.0,
        ge=1,
        description="Days a person whose every application ended without a certificate (rejected, withdrawn, "
        "expired, or invitation expired unfilled) is kept after that end, then erased (docs/personal-data.md).",
    )
    people_keep_days_after_certificate: float = Field(
        365.0,
        ge=0,
        description="Days a person with a certificate is kept after its end (the latest not_after), then erased.",
    )
    portal_url: str = Field("http://localhost:8001/apply", description="Base of the link e-mailed to applicants.")
    roster_max_bytes: int = 5 * 1024 * 1024
    # Every request body: room for the largest staff list and a multipart envelope around it.
    max_body_bytes: int = Field(
        5 * 1024 * 1024 + 64 * 1024, description="Largest request body accepted (413 above it)."
    )
    roster_max_rows: int = 20_000
    invitation_issue_batch: int = 100
    invitation_issuer_lanes: int = Field(
        2,
        ge=1,
        le=16,
        description="Batches of invitations issued side by side in one process: one batch's database work overlaps "
        "another's password hashing and sealing (off the event loop). About the process's CPU cores.",
    )
    argon2_time_cost: int = Field(2, description="Argon2id cost for the security word (a secret a person chooses).")
    argon2_memory_kib: int = 19_456  # OWASP's Argon2id baseline
    invitation_pbkdf2_iterations: int = Field(
        1_000,
        description="PBKDF2-HMAC-SHA256 iterations for the generated (>= 80-bit) invitation password; "
        "NIST SP 800-132's minimum. Its entropy, not this cost, is what stops guessing.",
    )
    pdf_font_dir: Path | None = None

    # Renewal with e-approval (docs/renewal.md).
    public_origin: str = Field(
        "http://localhost:8001",
        description="scheme://host[:port] the renewal page is served from; card sign-ins are bound to it.",
    )
    renewal_trust_dir: Path | None = Field(
        None,
        description="Directory of PEM/DER CA certificates: self-signed ones are trust anchors, the rest "
        "intermediates. Production: the CA's qualified roots and issuing CAs. Unset: no card is trusted.",
    )
    renewal_crl_dir: Path | None = Field(
        None, description="Directory of CRL files (PEM or DER), kept fresh by the operator."
    )
    renewal_revocation: str = Field(
        "offline",
        pattern="^(offline|online)$",
        description="offline: only the CRL files; online: also fetch CRLs/OCSP named in the certificates.",
    )
    renewal_window_days: int = Field(90, description="How long before the end of a certificate it may be renewed.")
    renewal_challenge_seconds: int = Field(300, description="Lifetime of a card challenge and a prepared signature.")
    renewal_session_minutes: int = Field(15, description="Lifetime of a holder session after the card sign-in.")
    renewal_form_days: int = Field(14, description="How long a Renewal Form link stays valid.")
    renewal_draft_days: int = Field(7, description="A renewal not e-approved within this many days expires.")
    renewal_form_grace_days: int = Field(
        30, description="A filed renewal whose Renewal Form link expired this many days ago (not re-sent) expires."
    )
    renewal_form_url: str = Field(
        "http://localhost:8001/renew/form", description="Base of the Renewal Form link e-mailed to holders."
    )
    renewal_public_limit: int = Field(
        30,
        description="Calls per client address per window to the renewal endpoints that need no login "
        "(challenges, card sign-in, Renewal Form link), all replicas together.",
    )
    renewal_public_window_seconds: int = 60
    renewal_tsa_url: str | None = Field(None, description="RFC 3161 timestamp authority for PAdES B-T; unset: B-B.")
