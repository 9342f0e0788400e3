"""A local e-signature "card" for a produced application: a SoftHSM2 token holding a key pair
generated on the token and, next to it, a certificate from the local test CA (esign/local_ca.py)
with the holder's name and TC Kimlik No and the serial the operator recorded at production.
``esign-agent run --card-type softhsm`` (with ``SOFTHSM2_CONF`` set to the card's ``conf``)
serves it to the renewal page as it would serve an AKİS card.

DEV AND TEST ONLY, like the local CA: the token's PIN is a fixed test PIN by default.

The token is built in a child process (``python -m esign.local_card``): SoftHSM2 only sees the
tokens that existed when a process first loaded it, so the process that builds them must not be
the one that later uses them (the agent, or a test that also signs).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_PIN = "123456"


def issue_card(
    ca_dir: Path,
    directory: Path,
    *,
    full_name: str,
    tckn: str,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    pin: str = DEFAULT_PIN,
    label: str = "esign-yerel",
) -> dict[str, Any]:
    """Builds the card under ``directory`` (in a child process) and returns its manifest:
    ``conf`` (for SOFTHSM2_CONF), ``module``, and ``tokens[0]`` with ``id``, ``label``, ``pin``
    and the certificate's ``fingerprint``. A card already in ``directory`` is replaced (issuing
    again makes a new card, as a real renewal would); a directory holding anything else is refused."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / "softhsm2.conf").exists():
            raise ValueError(f"{directory} is not empty and holds no local card: choose another directory")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "esign.local_card",
        "--ca",
        str(ca_dir),
        "--name",
        full_name,
        "--tckn",
        tckn,
        "--serial",
        format(serial, "x"),
        "--not-before",
        not_before.isoformat(),
        "--not-after",
        not_after.isoformat(),
        "--pin",
        pin,
        "--label",
        label,
        str(directory),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building the local card failed: {done.stderr.strip()[-2000:]}")
    return json.loads((directory / "manifest.json").read_text())


def _build(args: argparse.Namespace) -> dict[str, Any]:
    # The agent's SoftHSM2 builder is a dev dependency of the platform (`make install` installs it).
    from esign_agent.softhsm import KeySpec, TokenSpec, build

    from esign.local_ca import LocalCA

    ca = LocalCA.load(args.ca)
    spec = TokenSpec(args.label, args.name, args.tckn, (KeySpec("imza", "RSA", 2048),), pin=args.pin)

    def issue(public_key: Any, _spec: TokenSpec):
        return ca.issue_holder(
            public_key,
            full_name=args.name,
            tckn=args.tckn,
            serial=int(args.serial, 16),
            not_before=datetime.fromisoformat(args.not_before),
            not_after=datetime.fromisoformat(args.not_after),
        )

    return build(args.directory, (spec,), issue=issue)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build a local SoftHSM2 e-signature card (dev/test only).")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--ca", type=Path, required=True, help="the local CA's directory")
    parser.add_argument("--name", required=True, help="the holder's name as on the certificate")
    parser.add_argument("--tckn", required=True)
    parser.add_argument("--serial", required=True, help="the certificate serial, hexadecimal")
    parser.add_argument("--not-before", required=True)
    parser.add_argument("--not-after", required=True)
    parser.add_argument("--pin", default=DEFAULT_PIN)
    parser.add_argument("--label", default="esign-yerel")
    manifest = _build(parser.parse_args(argv))
    print(json.dumps(manifest, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
