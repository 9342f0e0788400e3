"""Move a simulated parcel by hand, or play the carrier and send a signed webhook.

    python -m services.tracking.cli advance SIM0123456789            # next step
    python -m services.tracking.cli advance SIM0123456789 --status delivery_failed --reason "adreste bulunamadı"
    python -m services.tracking.cli webhook SIM0123456789 TESLIM_EDILDI   # signed POST /v1/carrier/webhooks

``advance`` calls the operator endpoint with a ca_operator token (``--token``, ``$ESIGN_TOKEN``, or minted
from ``$ESIGN_TRACKING_JWT_SECRET`` / the secrets ``esign up`` keeps). ``webhook`` signs with
``$ESIGN_TRACKING_WEBHOOK_SECRET`` (or ``tracking_webhook_secret`` in those secrets).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

import httpx

from esign import webhooks
from esign.auth import Role, mint_token
from services.tracking.adapters.carriers import SIGNATURE_HEADER, TIMESTAMP_HEADER
from services.tracking.domain.shipment import Status


def _local_secret(env: str, key: str) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    from esign.keys import default_data_dir

    path = default_data_dir() / "secrets.json"
    return json.loads(path.read_text()).get(key) if path.exists() else None


def _operator_token(args: argparse.Namespace) -> str:
    if args.token or os.environ.get("ESIGN_TOKEN"):
        return args.token or os.environ["ESIGN_TOKEN"]
    secret = _local_secret("ESIGN_TRACKING_JWT_SECRET", "jwt_secret")
    if not secret:
        sys.exit("no token: pass --token, set ESIGN_TOKEN, or ESIGN_TRACKING_JWT_SECRET")
    return mint_token(secret, subject="tracking-cli", role=Role.CA_OPERATOR)


def advance(args: argparse.Namespace) -> int:
    body = {k: v for k, v in {"status": args.status, "reason": args.reason}.items() if v}
    r = httpx.post(
        f"{args.url}/v1/ops/simulated-carrier/shipments/{args.tracking_number}/advance",
        json=body or None,
        headers={"Authorization": f"Bearer {_operator_token(args)}"},
        timeout=10,
    )
    print(json.dumps(r.json(), ensure_ascii=False, indent=2))
    return 0 if r.is_success else 1


def webhook(args: argparse.Namespace) -> int:
    secret = _local_secret("ESIGN_TRACKING_WEBHOOK_SECRET", "tracking_webhook_secret")
    if not secret:
        sys.exit("no webhook secret: set ESIGN_TRACKING_WEBHOOK_SECRET")
    report = {
        "event_id": f"cli-{uuid.uuid4().hex}",
        "tracking_number": args.tracking_number,
        "status": args.carrier_status,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
    }
    if args.reason:
        report["reason"] = args.reason
    body = json.dumps(report, ensure_ascii=False).encode()
    headers = webhooks.signed_headers(
        secret.encode(), int(time.time()), body, timestamp_header=TIMESTAMP_HEADER, signature_header=SIGNATURE_HEADER
    )
    r = httpx.post(
        f"{args.url}/v1/carrier/webhooks",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    print(json.dumps(r.json(), ensure_ascii=False, indent=2))
    return 0 if r.is_success else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.tracking.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default=os.environ.get("ESIGN_TRACKING_URL", "http://127.0.0.1:8003"))
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("advance", help="simulated carrier: report the next status (or --status)")
    a.add_argument("tracking_number")
    a.add_argument("--status", choices=[s.value for s in Status if s is not Status.CREATED])
    a.add_argument("--reason")
    a.add_argument("--token")
    a.set_defaults(run=advance)
    w = sub.add_parser("webhook", help="send a signed carrier webhook with the carrier's own status word")
    w.add_argument("tracking_number")
    w.add_argument("carrier_status")
    w.add_argument("--reason")
    w.set_defaults(run=webhook)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
