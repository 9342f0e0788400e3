"""The services the platform is made of: name, local port, where their migrations are, their
settings' prefix. Read by the deployment commands (`esign migrate`, `esign keys`) as much as by
`esign up`, so nothing here needs the `dev` extra."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    default_port: int

    @property
    def available(self) -> bool:
        try:
            return importlib.util.find_spec(f"services.{self.name}.app") is not None
        except ModuleNotFoundError:  # the service's package does not exist (yet)
            return False

    @property
    def migrations_dir(self) -> Path:
        spec = importlib.util.find_spec(f"services.{self.name}")
        assert spec is not None and spec.origin is not None, f"services.{self.name} is not installed"
        return Path(spec.origin).parent / "migrations"

    @property
    def env_prefix(self) -> str:
        return f"ESIGN_{self.name.upper()}_"


SERVICES = [ServiceSpec("applications", 8001), ServiceSpec("notifications", 8002), ServiceSpec("tracking", 8003)]
