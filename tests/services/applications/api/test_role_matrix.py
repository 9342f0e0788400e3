"""Every endpoint against every role. An officer never reads or changes another institution's
data; an applicant only their own application. The matrix must name every route: adding an
endpoint without deciding who may call it fails this test."""

from __future__ import annotations

import uuid

import pytest

from tests.support.applications import Flow, person
from tests.support.openapi import KERNEL_PUBLIC, kernel_matrix, operations

# (method, path) -> roles allowed to call it. "officer" means an officer of the owning institution.
MATRIX: dict[tuple[str, str], set[str]] = kernel_matrix("applications") | {
    ("POST", "/v1/institutions"): {"operator"},
    ("GET", "/v1/institutions"): {"operator", "officer"},
    ("GET", "/v1/institutions/{institution_id}"): {"operator", "officer"},
    ("POST", "/v1/institutions/{institution_id}/officers"): {"operator"},
    ("GET", "/v1/institutions/{institution_id}/officers"): {"operator", "officer"},
    ("POST", "/v1/institutions/{institution_id}/roster"): {"officer"},
    ("GET", "/v1/applications"): {"operator", "officer"},
    ("GET", "/v1/applications/summary"): {"operator", "officer"},
    ("GET", "/v1/applications/{application_id}"): {"operator", "officer", "applicant"},
    ("GET", "/v1/applications/{application_id}/history"): {"operator", "officer"},
    ("GET", "/v1/applications/{application_id}/expiry-warnings"): {"operator", "officer"},
    ("GET", "/v1/applications/{application_id}/form.pdf"): {"operator", "officer", "applicant"},
    ("POST", "/v1/applications/{application_id}/invitation"): {"officer"},
    ("POST", "/v1/applications/{application_id}/signed-form"): {"officer"},
    ("POST", "/v1/applications/{application_id}/withdrawal"): {"officer"},
    ("POST", "/v1/applications/{application_id}/rejection"): {"operator"},
    ("POST", "/v1/applications/{application_id}/production"): {"operator"},
    ("POST", "/v1/institutions/{institution_id}/batches"): {"officer"},
    ("GET", "/v1/batches"): {"operator", "officer"},
    ("GET", "/v1/batches/{batch_id}"): {"operator", "officer"},
    ("GET", "/v1/applicant/application"): {"applicant"},
    ("PATCH", "/v1/applicant/application/form"): {"applicant"},
    ("PUT", "/v1/applicant/application/security-word"): {"applicant"},
    ("POST", "/v1/applicant/application/completion"): {"applicant"},
    ("GET", "/v1/applicant/application/form.pdf"): {"applicant"},
    # Renewal (docs/renewal.md). "holder": a card sign-in's session, for its own renewal only.
    ("GET", "/v1/renewal"): {"holder"},
    ("PATCH", "/v1/renewal"): {"holder"},
    ("POST", "/v1/renewal/approval/preparations"): {"holder"},
    ("POST", "/v1/renewal/approval"): {"holder"},
    ("GET", "/v1/renewal/approval.pdf"): {"holder"},
    ("GET", "/v1/renewals"): {"operator", "officer"},
    ("POST", "/v1/institutions/{institution_id}/renewal-batches"): {"officer"},
    ("POST", "/v1/renewals/{renewal_id}/renewal-form/resend"): {"officer"},
    ("GET", "/v1/applications/{application_id}/e-approval.pdf"): {"operator", "officer"},
    ("GET", "/v1/applications/{application_id}/e-approval"): {"operator", "officer"},
}
PUBLIC = KERNEL_PUBLIC | {
    ("POST", "/v1/applicant/sessions"),
    # Renewal: the card sign-in (possession of the key is the credential) and the Renewal Form
    # link (its secret is the credential; tests/services/applications/renewal cover both).
    ("POST", "/v1/renewal/challenges"),
    ("POST", "/v1/renewal/sessions"),
    ("POST", "/v1/renewal-forms/view"),
    ("POST", "/v1/renewal-forms/approval"),
    # The applicant's page: static files; the link token and password reach only the sessions endpoint.
    ("GET", "/apply"),
    ("GET", "/apply/app.js"),
    ("GET", "/apply/style.css"),
    # The staff console and its sign-in (esign.console): before a session exists, so no role; the
    # staff APIs they lead to are checked above. tests/e2e/test_console_sign_in_* and
    # tests/esign/console cover them.
    ("GET", "/console/"),
    ("GET", "/console/{path}"),
    ("GET", "/auth/login"),
    ("GET", "/auth/callback"),
    ("GET", "/auth/local"),
    ("POST", "/auth/local"),
    ("GET", "/auth/local/style.css"),
    ("GET", "/auth/session"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/check"),
    # The renewal page (/renew, and /renew/form for the Renewal Form): static files.
    ("GET", "/renew"),
    ("GET", "/renew/form"),
    ("GET", "/renew/app.js"),
    ("GET", "/renew/agent-client.js"),
    ("GET", "/renew/style.css"),
}

BODIES = {
    "/v1/institutions": {"name": "Başka Kurum"},
    "/v1/institutions/{institution_id}/officers": {
        "subject": "x-officer",
        "full_name": "Ali Veli",
        "email": "ali@x.edu.tr",
    },
    "/v1/applications/{application_id}/signed-form": {"channel": "paper", "received_on": "2026-01-02"},
    "/v1/applications/{application_id}/withdrawal": {"reason": "left the institution"},
    "/v1/applications/{application_id}/rejection": {"reason": "missing signature"},
    "/v1/applications/{application_id}/production": {
        "certificate_serial": "AB12",
        "not_before": "2026-01-01T00:00:00Z",
        "not_after": "2029-01-01T00:00:00Z",
    },
    "/v1/applicant/application/form": {"registry_number": "B-2"},
    "/v1/applicant/application/security-word": {"security_word": "Deneme12"},
    "/v1/renewal": {"title": "Doç. Dr."},
    "/v1/renewal/approval/preparations": {"certificate": "MA==", "mechanism": "ECDSA_SHA256"},
    "/v1/renewal/approval": {"preparation_id": "00000000-0000-0000-0000-000000000000", "signature": "MA=="},
}


def test_the_matrix_names_every_route(applications_app):
    assert operations(applications_app.openapi()) - PUBLIC == set(MATRIX)


@pytest.fixture(scope="module")
async def world(client, auth, nc):
    """Institution A with one forwarded-ready application and a batch; institution B with its officer."""
    from tests.support.applications import InvitationInbox

    inbox = InvitationInbox(nc)
    await inbox.start()
    flow = Flow(client, auth, inbox)
    a, b = await flow.institution(), await flow.institution()
    invs = await flow.invited(a, [person(9001), person(9002)])
    target, other = invs["kisi9001@ornek.edu.tr"], invs["kisi9002@ornek.edu.tr"]
    await flow.completed(target)
    await flow.received(a, target.application_id)
    batch = await flow.forwarded(a, [target.application_id])
    await inbox.stop()
    return {
        "a": a,
        "b": b,
        "application_id": target.application_id,
        "batch_id": batch["batch"]["id"],
        "applicant_a": await flow.sign_in(target),
        "applicant_other": await flow.sign_in(other),
    }


def headers_for(role: str, world, auth) -> dict[str, str]:
    return {
        "none": {},
        "operator": auth.operator(),
        "officer": auth.officer(world["a"]),
        "foreign_officer": auth.officer(world["b"], subject="officer-b"),
        "applicant": world["applicant_a"],
        "other_applicant": world["applicant_other"],
    }[role]


async def call(client, method: str, path: str, world, headers):
    url = path.format(
        institution_id=world["a"],
        application_id=world["application_id"],
        batch_id=world["batch_id"],
        renewal_id=world["application_id"],
        dead_letter_id=uuid.uuid4(),
    )
    body = BODIES.get(path)
    if path.endswith("/roster"):
        return await client.post(url, content=b"tckn;first_name\n", headers={**headers, "Content-Type": "text/csv"})
    if path.endswith("/batches") and method == "POST":
        body = {"application_ids": [world["application_id"]]}
    if path.endswith("/renewal-batches"):
        body = {"renewal_ids": [world["application_id"]]}
    return await client.request(method, url, json=body if method != "GET" else None, headers=headers)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
async def test_route_refuses_who_it_must(route, client, auth, world):
    method, path = route
    allowed = MATRIX[route]
    r = await call(client, method, path, world, {})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")

    for role in ("operator", "officer", "applicant"):
        if role in allowed:
            continue
        r = await call(client, method, path, world, headers_for(role, world, auth))
        assert r.status_code in (403, 404), (role, r.status_code, r.text)


@pytest.mark.parametrize(
    "route", sorted(r for r, roles in MATRIX.items() if "officer" in roles), ids=lambda r: f"{r[0]} {r[1]}"
)
async def test_officer_of_another_institution_sees_and_changes_nothing(route, client, auth, world):
    method, path = route
    r = await call(client, method, path, world, headers_for("foreign_officer", world, auth))
    if "{" in path:  # a resource of institution A, addressed by id
        assert r.status_code == 404, r.text
    else:  # a listing: answers, but with nothing of A's in it
        assert r.status_code == 200, r.text
        assert world["a"] not in r.text and world["application_id"] not in r.text
    # and A's application is untouched
    state = await client.get(f"/v1/applications/{world['application_id']}", headers=auth.operator())
    assert state.json()["status"] == "forwarded"


@pytest.mark.parametrize(
    "route",
    sorted(r for r, roles in MATRIX.items() if "applicant" in roles and "{" in r[1]),
    ids=lambda r: f"{r[0]} {r[1]}",
)
async def test_applicant_reaches_only_their_own_application(route, client, world):
    method, path = route
    r = await call(client, method, path, world, world["applicant_other"])
    assert r.status_code == 404, r.text


async def test_foreign_officer_cannot_filter_into_another_institution(client, auth, world):
    r = await client.get(
        "/v1/applications", params={"institution_id": world["a"]}, headers=headers_for("foreign_officer", world, auth)
    )
    assert r.status_code == 404
    r = await client.get(
        "/v1/applications/summary",
        params={"institution_id": world["a"]},
        headers=headers_for("foreign_officer", world, auth),
    )
    assert r.status_code == 404
