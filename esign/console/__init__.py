"""The staff console's backend-for-frontend: sign-in (OIDC authorization code + PKCE, or the local
sign-in page when no identity provider is configured), server-side cookie sessions, the session
check the proxy asks before a staff API call (cookie → bearer token, CSRF), and the console's
static files. Mounted by one service (``esign.routes.SIGN_IN_SERVICE``); see docs/console.md."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"  # the console's own files (HTML, CSS, ES modules)
