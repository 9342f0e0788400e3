"""``esign-agent run`` and ``esign-agent doctor``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from .config import DEFAULT_PORT, PIN_ENTRY_MODES, Config, ConfigError, load_config
from .doctor import run_doctor
from .pin_prompt import dialog_available
from .server import AGENT_VERSION, Agent


def _module(value: str) -> tuple[str, str]:
    card_id, sep, path = value.partition("=")
    if not sep or not card_id or not path:
        raise argparse.ArgumentTypeError("expected CARD_TYPE=PATH")
    return card_id, path


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="configuration file (TOML)")
    common.add_argument("--port", type=int, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    common.add_argument(
        "--allow-origin",
        dest="allow_origins",
        action="append",
        metavar="URL",
        help="origin allowed to connect, e.g. https://esign.example.gov.tr (repeatable)",
    )
    common.add_argument(
        "--card-type",
        dest="card_types",
        action="append",
        metavar="NAME",
        help="akis, softhsm, ... (repeatable)",
    )
    common.add_argument(
        "--module",
        dest="modules",
        action="append",
        type=_module,
        metavar="CARD_TYPE=PATH",
        help="PKCS#11 module for a card type (repeatable)",
    )
    common.add_argument("--pin-entry", choices=PIN_ENTRY_MODES, help="who asks for the PIN")
    common.add_argument("--log-level", help="DEBUG, INFO, WARNING")
    parser = argparse.ArgumentParser(prog="esign-agent", description="Signing agent for e-signature cards.")
    parser.add_argument("--version", action="version", version=f"esign-agent {AGENT_VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", parents=[common], help="serve web pages on 127.0.0.1")
    commands.add_parser("doctor", parents=[common], help="check modules, readers, cards and settings")
    return parser


def _config(args: argparse.Namespace) -> Config:
    cli = {
        "port": args.port,
        "allow_origins": tuple(args.allow_origins or ()),
        "card_types": tuple(args.card_types or ()),
        "pin_entry": args.pin_entry,
        "log_level": args.log_level,
        "modules": dict(args.modules or ()),
    }
    return load_config(cli, config_file=args.config)


async def _run(config: Config) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass  # Windows: Ctrl+C arrives as KeyboardInterrupt instead
    async with Agent(config):
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = _config(args)
    except ConfigError as exc:
        print(f"esign-agent: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, config.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(message)s",
    )
    if args.command == "doctor":
        logging.getLogger("esign_agent").setLevel(logging.ERROR)  # doctor says it in plain words
        return run_doctor(config)
    if config.pin_entry == "agent" and not dialog_available():
        print(
            'esign-agent: pin_entry = "agent" needs tkinter for the PIN window (Debian: apt install python3-tk)',
            file=sys.stderr,
        )
        return 2
    try:
        asyncio.run(_run(config))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # typically: the port is taken
        logging.getLogger("esign_agent").error("cannot start: %s (try `esign-agent doctor`)", exc.strerror or exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
