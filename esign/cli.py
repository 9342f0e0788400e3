"""The `esign` command: `esign up` runs the platform locally, `esign token` mints a local bearer
token, `esign invitations` shows the invitations the notifications service would e-mail."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from esign.auth import Role, mint_token
from esign.local_stack import SERVICES, LocalStack, default_data_dir, load_secrets


def _up(args: argparse.Namespace) -> int:
    ports = {s.name: getattr(args, f"{s.name}_port") for s in SERVICES}
    stack = LocalStack(Path(args.data_dir), args.host, ports, args.nats_port, args.smtp_port,
                       out=lambda line: print(line, flush=True))
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
    keys = load_secrets(Path(args.data_dir))
    role = Role(args.role)
    token = mint_token(
        keys["jwt_secret"], subject=args.sub or f"{role.value}@local", role=role,
        institution_id=uuid.UUID(args.institution) if args.institution else None,
        application_id=uuid.UUID(args.application) if args.application else None,
        ttl=timedelta(hours=args.hours),
    )
    print(token)
    return 0


def _invitations(args: argparse.Namespace) -> int:
    """Reads invitation events from the applications stream and opens the sealed credentials with
    the local notifications key: what the notifications service does before e-mailing them."""
    from nats.errors import TimeoutError as NatsTimeout

    from esign import sealing
    from esign.jetstream import connect

    keys = load_secrets(Path(args.data_dir))

    async def main() -> list[dict]:
        nc = await connect(args.nats_url, name="esign-cli")
        js = nc.jetstream()
        sub = await js.subscribe("applications.invitation.issued", stream="APPLICATIONS", ordered_consumer=True)
        found: dict[str, dict] = {}
        try:
            while True:
                msg = await sub.next_msg(timeout=1.0)
                data = json.loads(msg.data)["data"]
                secret = sealing.unseal(keys["notifications_private_key"], data["sealed_credentials"])
                found[data["application_id"]] = {  # the latest invitation per application wins
                    "application_id": data["application_id"], "name": f"{data['first_name']} {data['last_name']}",
                    "email": data["email"], "link": secret["link"], "token": secret["token"], "password": secret["password"],
                    "expires_at": data["expires_at"],
                }
        except NatsTimeout:  # nothing more on the stream
            pass
        finally:
            await nc.close()
        return list(found.values())

    invitations = asyncio.run(main())
    if args.json:
        print(json.dumps(invitations, ensure_ascii=False, indent=2))
    else:
        for inv in invitations:
            print(f"{inv['name']} <{inv['email']}>\n  link:     {inv['link']}\n  password: {inv['password']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="esign", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data_dir = {"default": str(default_data_dir()), "help": "where local data and keys live (default: %(default)s)"}

    up = sub.add_parser("up", help="run the whole platform on this machine")
    up.add_argument("--data-dir", **data_dir)
    up.add_argument("--host", default="127.0.0.1")
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

    inv = sub.add_parser("invitations", help="show invitation links and passwords (what notifications would e-mail)")
    inv.add_argument("--data-dir", **data_dir)
    inv.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    inv.add_argument("--json", action="store_true")
    inv.set_defaults(func=_invitations)
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
