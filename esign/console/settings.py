"""The console's settings, mixed into the settings of the service that hosts it (so they carry
that service's environment prefix, e.g. ``ESIGN_APPLICATIONS_CONSOLE_SESSION_MINUTES``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class ConsoleSettings(BaseModel):
    console_secret: SecretStr | None = Field(
        None,
        description="Key that seals the tokens a console session holds and derives its CSRF token; the same on "
        "every replica. Unset: random per process (sessions end on restart).",
    )
    console_session_minutes: int = Field(480, gt=0, description="How long a console sign-in lasts at most.")
    console_cookie_secure: bool | None = Field(
        None, description="Secure cookie flag. Unset: on, except for plain http on localhost (local runs)."
    )
    oidc_client_id: str | None = Field(
        None, description="The console's client at the identity provider (with OIDC_ISSUER). Unset: local sign-in."
    )
    oidc_client_secret: SecretStr | None = Field(None, description="Confidential client's secret (PKCE is used too).")
    oidc_redirect_url: str | None = Field(
        None, description="Public URL of /auth/callback registered at the provider, e.g. https://host/auth/callback."
    )
    oidc_post_logout_redirect_url: str | None = Field(
        None,
        description="Where the provider sends the browser after its sign-out (RP-Initiated Logout), registered at "
        "the provider as a post_logout_redirect_uri. Unset: /console/ on the origin of OIDC_REDIRECT_URL.",
    )
    oidc_discovery_url: str | None = Field(
        None, description="Provider metadata. Unset: OIDC_ISSUER + /.well-known/openid-configuration."
    )
    oidc_scopes: str = Field("openid profile", description="Scopes the console asks for.")
    oidc_resource: str | None = Field(
        None,
        description="RFC 8707 resource indicator sent with the request, if the provider needs one for a "
        "JWT access token whose audience is JWT_AUDIENCE.",
    )
