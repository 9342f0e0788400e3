"""Every tracking route against every role. The matrix must name every route in the OpenAPI
document: adding an endpoint without deciding who may call it fails this test."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from esign.auth import Role, mint_token
from tests.support.auth import JWT_SECRET, Auth, bearer
from tests.support.openapi import KERNEL_PUBLIC, kernel_matrix, operations
from tests.support.tracking import Shipments, report

MATRIX: dict[tuple[str, str], set[str]] = kernel_matrix("tracking") | {
    ("GET", "/v1/shipments"): {"operator"},
    ("GET", "/v1/shipments/stuck"): {"operator"},
    ("GET", "/v1/shipments/{shipment_id}"): {"operator"},
    ("POST", "/v1/shipments/{shipment_id}/reship"): {"operator"},
    ("POST", "/v1/ops/simulated-carrier/shipments/{tracking_number}/advance"): {"operator"},
}
# No bearer token: health, the carrier's HMAC-signed webhook, and the public query with its page.
PUBLIC = KERNEL_PUBLIC | {
    ("POST", "/v1/carrier/webhooks"),
    ("POST", "/v1/public/shipment-queries"),
    ("GET", "/gonderi-sorgulama"),
    ("GET", "/gonderi-sorgulama/app.js"),
    ("GET", "/gonderi-sorgulama/style.css"),
}

ROLES = {
    "officer": lambda: bearer(
        mint_token(JWT_SECRET, subject="officer", role=Role.INSTITUTION_OFFICER, institution_id=uuid.uuid4())
    ),
    "applicant": lambda: bearer(
        mint_token(JWT_SECRET, subject="applicant", role=Role.APPLICANT, application_id=uuid.uuid4())
    ),
    "forged_operator": lambda: bearer(
        mint_token("some-other-secret-0123456789abcdef", subject="x", role=Role.CA_OPERATOR)
    ),
}


def test_the_matrix_names_every_route(tracking_app):
    assert operations(tracking_app.openapi()) - PUBLIC == set(MATRIX)
    assert operations(tracking_app.openapi()) >= PUBLIC


@pytest.fixture(scope="module")
async def parcel(client, tracking_nc):
    return await Shipments(client, Auth(), tracking_nc).new()


async def call(client, method: str, path: str, parcel: dict, headers: dict[str, str]):
    url = path.format(shipment_id=parcel["id"], tracking_number=parcel["tracking_number"], dead_letter_id=uuid.uuid4())
    return await client.request(method, url, headers=headers)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
async def test_route_refuses_who_it_must(route, client, auth, parcel):
    method, path = route
    r = await call(client, method, path, parcel, {})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    for role, headers in ROLES.items():
        r = await call(client, method, path, parcel, headers())
        assert r.status_code == (401 if role == "forged_operator" else 403), (role, r.text)
    r = await call(client, method, path, parcel, auth.operator())
    # 404: the random dead letter id; 409: the parcel is not returned, so not shipped again.
    assert r.status_code in ((409,) if path.endswith("/reship") else (200, 404)), r.text
    # Nothing moved for the callers that were refused (only the operator's advance may have).
    detail = await client.get(f"/v1/shipments/{parcel['id']}", headers=auth.operator())
    assert detail.status_code == 200


async def test_a_bearer_token_is_no_substitute_for_the_webhook_signature(client, auth, parcel):
    body = report(parcel["tracking_number"], "DELIVERED", datetime.now(timezone.utc))
    r = await client.post(
        "/v1/carrier/webhooks", content=body, headers={**auth.operator(), "Content-Type": "application/json"}
    )
    assert r.status_code == 401 and r.json()["code"] == "webhook_signature_missing"
