"""The platform's keys: a fresh set for a deployment (`esign keys`), which service gets which, and
the set `esign up` makes once and keeps in its data directory. Nothing here needs the `dev` extra:
the deployment commands use it too."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from esign import sealing
from esign.field_crypto import FieldKeys


def default_data_dir() -> Path:
    """Where `esign up` keeps its data and keys: ESIGN_DATA_DIR, else the XDG data folder."""
    if os.environ.get("ESIGN_DATA_DIR"):
        return Path(os.environ["ESIGN_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "esign"


def load_secrets(data_dir: Path) -> dict[str, str]:
    """Local keys, made on first run and kept (mode 0600) so tokens and sealed invitations
    stay valid across restarts. A key added in a later version is made and saved on the next run."""
    path = data_dir / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    missing = {name: make for name, make in _SECRET_MAKERS.items() if name not in values}
    if not missing:
        return values
    for make in set(missing.values()):
        values.update(make())
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f, indent=2)
    os.replace(path.with_suffix(".tmp"), path)
    return values


def _sealing_keys() -> dict[str, str]:
    private, public = sealing.generate_keypair()
    return {"notifications_private_key": private, "notifications_public_key": public}


def _field_keys() -> dict[str, str]:
    encryption, lookup = FieldKeys.generate()
    return {"applications_field_keys": encryption, "applications_field_lookup_key": lookup}


def _random(name: str) -> Callable[[], dict[str, str]]:
    return lambda: {name: secrets.token_urlsafe(32)}


_SECRET_MAKERS = {
    "jwt_secret": _random("jwt_secret"),
    "applicant_token_secret": _random("applicant_token_secret"),
    "notifications_private_key": _sealing_keys,
    "notifications_public_key": _sealing_keys,
    "tracking_webhook_secret": _random("tracking_webhook_secret"),
    "console_secret": _random("console_secret"),
    "applications_field_keys": _field_keys,
    "applications_field_lookup_key": _field_keys,
}


def service_keys(keys: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each service's key settings (names without the service's prefix); each secret goes only
    where it is used. The JWT secret signs staff tokens locally (production verifies an OIDC
    issuer's tokens instead)."""
    return {
        "applications": {
            "JWT_SECRET": keys["jwt_secret"],
            "APPLICANT_TOKEN_SECRET": keys["applicant_token_secret"],
            "NOTIFICATIONS_PUBLIC_KEY": keys["notifications_public_key"],
            "CONSOLE_SECRET": keys["console_secret"],
            "FIELD_KEYS": keys["applications_field_keys"],
            "FIELD_LOOKUP_KEY": keys["applications_field_lookup_key"],
        },
        "notifications": {"JWT_SECRET": keys["jwt_secret"], "SEAL_PRIVATE_KEY": keys["notifications_private_key"]},
        "tracking": {"JWT_SECRET": keys["jwt_secret"], "WEBHOOK_SECRET": keys["tracking_webhook_secret"]},
    }


def fresh_keys() -> dict[str, str]:
    """A new set of every key ``load_secrets`` would make."""
    values: dict[str, str] = {}
    for make in set(_SECRET_MAKERS.values()):
        values.update(make())
    return values
