"""Settings: defaults < configuration file < environment < command line.

The configuration file is TOML (docs/agent.md shows every key). Allowed origins are checked
hard at load time because they are the agent's only access control: a typo must stop the agent,
not silently refuse (or worse, admit) pages.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .presets import PRESET_LABELS, current_os

DEFAULT_PORT = 47100
PIN_ENTRY_MODES = ("page", "agent")
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class ConfigError(ValueError):
    """A setting is wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class Config:
    port: int = DEFAULT_PORT  # 0 picks a free port (tests)
    allow_origins: tuple[str, ...] = ()
    card_types: tuple[str, ...] = ("akis",)
    modules: Mapping[str, str] = field(default_factory=dict)  # card type -> module path
    pin_entry: str = "page"  # "page": the page sends the PIN; "agent": the agent asks for it
    max_message_bytes: int = 64 * 1024
    poll_interval: float = 1.0  # seconds between checks for inserted/removed cards
    wrong_pin_delay: float = 2.0  # wait after the first wrong PIN, doubled after each next one
    wrong_pin_max_delay: float = 60.0
    pin_prompt_timeout: float = 120.0
    log_level: str = "INFO"
    config_file: str | None = None  # the file these settings were read from, if any


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    os_name = current_os()
    if os_name == "windows":
        base = Path(env.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif os_name == "macos":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "esign-agent" / "config.toml"


def normalize_origin(value: str) -> str:
    """Canonical form of an allowed origin, as browsers send it in the Origin header."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"allowed origin {value!r} is not a URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(f"allowed origin {value!r} must look like https://host or https://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"allowed origin {value!r} must have no path, query or user name")
    if parts.scheme == "http" and host not in _LOOPBACK_NAMES:
        # Anyone on the network path could inject script into a plain-http page and sign.
        raise ConfigError(f"allowed origin {value!r} must use https (http only for localhost)")
    if port == {"https": 443, "http": 80}[parts.scheme]:
        port = None  # browsers leave the default port out of Origin
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}" + (f":{port}" if port is not None else "")


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item for item in value.replace(",", " ").split() if item)


def _env_settings(env: Mapping[str, str]) -> dict[str, Any]:
    names: dict[str, tuple[str, Callable[[str], Any]]] = {
        "ESIGN_AGENT_PORT": ("port", str),
        "ESIGN_AGENT_ALLOW_ORIGINS": ("allow_origins", _split_list),
        "ESIGN_AGENT_CARD_TYPES": ("card_types", _split_list),
        "ESIGN_AGENT_PIN_ENTRY": ("pin_entry", str),
        "ESIGN_AGENT_LOG_LEVEL": ("log_level", str),
    }
    return {key: convert(env[var]) for var, (key, convert) in names.items() if env.get(var)}


def _file_settings(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
    known = {f.name for f in fields(Config)} - {"config_file"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"configuration file {path}: unknown setting(s) {', '.join(unknown)}")
    return data


def load_config(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> Config:
    """Merge the layers. ``cli`` holds only the options given on the command line."""
    env = os.environ if env is None else env
    explicit = config_file or env.get("ESIGN_AGENT_CONFIG")
    path = Path(explicit) if explicit else default_config_path(env)
    if explicit and not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist")
    merged: dict[str, Any] = {}
    if path.is_file():
        merged.update(_file_settings(path))
        merged["config_file"] = str(path)
    merged.update(_env_settings(env))
    cli = {k: v for k, v in (cli or {}).items() if v not in (None, (), [], {})}
    if "modules" in cli:  # module paths add to the file's instead of replacing them
        cli["modules"] = {**merged.get("modules", {}), **cli["modules"]}
    merged.update(cli)
    return _validated(merged)


def _validated(values: dict[str, Any]) -> Config:
    config = replace(Config(), **values)
    try:
        port = int(config.port)
    except (TypeError, ValueError):
        raise ConfigError(f"port {config.port!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range (1-65535)")
    if isinstance(config.allow_origins, str):
        raise ConfigError("allow_origins must be a list of origins")
    origins = tuple(dict.fromkeys(normalize_origin(o) for o in config.allow_origins))
    modules = {str(k): str(v) for k, v in dict(config.modules).items()}
    unknown = [c for c in config.card_types if c not in PRESET_LABELS and c not in modules]
    if unknown:
        raise ConfigError(
            f"unknown card type(s) {', '.join(unknown)}: known are {', '.join(PRESET_LABELS)};"
            " others need a module path under [modules]"
        )
    if config.pin_entry not in PIN_ENTRY_MODES:
        raise ConfigError(f"pin_entry must be one of {', '.join(PIN_ENTRY_MODES)}")
    if config.max_message_bytes < 1024:
        raise ConfigError("max_message_bytes must be at least 1024")
    return replace(
        config,
        port=port,
        allow_origins=origins,
        card_types=tuple(config.card_types),
        modules=modules,
        log_level=str(config.log_level).upper(),
    )
