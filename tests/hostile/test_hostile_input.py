"""Inputs a schema-driven fuzzer does not make, sent by hand over real HTTP to the three services:
bodies of 10 MB, deep nesting, invalid UTF-8, NUL characters, huge numbers, a staff list one row
over the limit, spreadsheet formulas, forged and malformed tokens. Every answer is a problem+json
4xx with a stable code, and nothing is stored."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from esign.auth import LOCAL_ISSUER
from tests.support.applications import person, roster_csv
from tests.support.auth import JWT_SECRET, bearer
from tests.support.tracking import report, send_webhook

PROBLEM = "application/problem+json"
TEN_MB = b"x" * (10 * 1024 * 1024)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    if code:
        assert body["code"] == code, body
    return body


def field_codes(body: dict) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in body.get("errors", [])}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def institutions_named(applications, world, name: str) -> list[dict]:
    r = await applications.get("/v1/institutions", headers=world.headers("operator"))
    return [i for i in r.json() if i["name"] == name]


# --------------------------------------------------------------------------- size


async def test_a_10_mb_body_is_refused_with_413_by_every_service(applications, notifications, tracking, world):
    for client, path in (
        (applications, "/v1/institutions"),
        (notifications, f"/v1/deliveries/{uuid.uuid4()}/resend"),
        (tracking, "/v1/public/shipment-queries"),
    ):
        r = await client.post(
            path, content=TEN_MB, headers={**world.headers("operator"), "Content-Type": "application/json"}
        )
        assert_problem(r, 413, "payload_too_large")


async def test_a_body_without_a_length_is_counted_as_it_arrives(tracking):
    async def chunks():
        for _ in range(20):
            yield b"x" * (1024 * 1024)

    r = await tracking.post(
        "/v1/public/shipment-queries", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload_too_large")


async def test_a_staff_list_one_row_over_the_limit_is_refused_and_nothing_stored(applications, world):
    people = [person(n, "limit.edu.tr") for n in range(20_001)]
    r = await applications.post(
        f"/v1/institutions/{world.institution_id}/roster",
        content=roster_csv(people),
        headers={**world.headers("officer"), "Content-Type": "text/csv"},
    )
    assert_problem(r, 413, "roster_too_many_rows")
    r = await applications.get("/v1/applications", params={"q": "limit.edu.tr"}, headers=world.headers("officer"))
    assert r.json()["total"] == 0


# --------------------------------------------------------------------------- JSON shape


async def test_a_staff_list_nested_1000_deep_is_refused_not_a_500(applications, world):
    r = await applications.post(
        f"/v1/institutions/{world.institution_id}/roster",
        content=nested(1000),
        headers={**world.headers("officer"), "Content-Type": "application/json"},
    )
    body = assert_problem(r, 422, "validation_failed")
    assert ("body", "too_deep") in field_codes(body)


async def test_a_correctly_signed_webhook_nested_5000_deep_is_refused_not_a_500(tracking):
    r = await send_webhook(tracking, ('{"event_id": ' + nested(5000) + "}").encode())
    body = assert_problem(r, 422)
    assert ("body", "too_deep") in field_codes(body)


@pytest.mark.parametrize("digits", [20, 4301, 10_000])
async def test_huge_integers_in_a_body_are_refused(applications, world, digits):
    entry = '{"tckn": ' + "9" * digits + ', "first_name": "Ayşe"}'
    r = await applications.post(
        f"/v1/institutions/{world.institution_id}/roster",
        content=("[" + entry + "]").encode(),
        headers={**world.headers("officer"), "Content-Type": "application/json"},
    )
    body = assert_problem(r, 422)
    assert ("body", "number_out_of_range") in field_codes(body)


@pytest.mark.parametrize("number", ["1e400", "NaN", "-Infinity"])
async def test_numbers_json_cannot_store_are_refused(applications, world, number):
    r = await applications.patch(
        "/v1/applicant/application/form",
        content=('{"validity_years": ' + number + "}").encode(),
        headers={**world.headers("applicant"), "Content-Type": "application/json"},
    )
    assert ("body", "number_out_of_range") in field_codes(assert_problem(r, 422))


async def test_a_body_that_is_not_utf8_is_a_422_before_and_after_authentication(applications, world):
    latin1 = '{"name": "Örnek Üniversitesi"}'.encode("latin-1")
    for headers in ({}, world.headers("operator")):
        r = await applications.post(
            "/v1/institutions", content=latin1, headers={**headers, "Content-Type": "application/json"}
        )
        assert ("body", "utf8_invalid") in field_codes(assert_problem(r, 422, "validation_failed"))
    r = await applications.post(
        "/v1/institutions",
        content=b'{"name": ',
        headers={**world.headers("operator"), "Content-Type": "application/json"},
    )
    assert ("body", "json_invalid") in field_codes(assert_problem(r, 422, "validation_failed"))


# --------------------------------------------------------------------------- NUL characters


async def test_nul_in_a_body_field_is_refused_with_its_field_and_nothing_stored(applications, world):
    name = "Kötü\u0000Kurum"
    r = await applications.post("/v1/institutions", json={"name": name}, headers=world.headers("operator"))
    assert ("name", "unstorable_character") in field_codes(assert_problem(r, 422))
    assert await institutions_named(applications, world, name) == []


async def test_nul_in_an_officer_name_is_refused(applications, world):
    r = await applications.post(
        f"/v1/institutions/{world.institution_id}/officers",
        json={"subject": "nes-nul", "full_name": "Ali\u0000Veli", "email": "ali@fuzz.edu.tr"},
        headers=world.headers("operator"),
    )
    assert ("full_name", "unstorable_character") in field_codes(assert_problem(r, 422))


@pytest.mark.parametrize(
    "service, path",
    [
        ("applications", "/v1/applications?q=%00"),
        ("applications", "/v1/applications?q=1985-04-12%00"),
        ("notifications", "/v1/deliveries?template=a%00b"),
        ("tracking", "/v1/shipments?city=Ankara%00"),
        ("tracking", "/v1/shipments?tracking_number=%00"),
    ],
)
async def test_nul_in_a_search_or_filter_is_refused(applications, notifications, tracking, world, service, path):
    client = {"applications": applications, "notifications": notifications, "tracking": tracking}[service]
    r = await client.get(path, headers=world.headers("operator"))
    body = assert_problem(r, 422, "validation_failed")
    assert {code for _, code in field_codes(body)} == {"unstorable_character"}


async def test_nul_in_a_path_parameter_is_refused(tracking, world):
    r = await tracking.post(
        "/v1/ops/simulated-carrier/shipments/SIM%00123/advance", json={}, headers=world.headers("operator")
    )
    assert ("path", "unstorable_character") in field_codes(assert_problem(r, 422))


async def test_nul_in_a_signed_webhook_field_is_refused(tracking):
    body = report("SIM\u00000001", "delivered", datetime.now(UTC), location="Ankara\u0000")
    r = await send_webhook(tracking, body)
    codes = field_codes(assert_problem(r, 422))
    assert {("tracking_number", "unstorable_character"), ("location", "unstorable_character")} <= codes


async def test_a_lone_surrogate_is_refused(applications, world):
    r = await applications.post(
        "/v1/institutions",
        content=b'{"name": "Kurum \\ud800"}',
        headers={**world.headers("operator"), "Content-Type": "application/json"},
    )
    assert ("name", "unstorable_character") in field_codes(assert_problem(r, 422))


# --------------------------------------------------------------------------- paging and filters


@pytest.mark.parametrize(
    "service, path",
    [
        ("applications", "/v1/applications"),
        ("notifications", "/v1/deliveries"),
        ("tracking", "/v1/shipments"),
        ("tracking", "/v1/shipments/stuck"),
    ],
)
@pytest.mark.parametrize("param", ["offset", "limit"])
async def test_paging_past_64_bits_is_a_422_on_every_list(
    applications, notifications, tracking, world, service, path, param
):
    client = {"applications": applications, "notifications": notifications, "tracking": tracking}[service]
    r = await client.get(path, params={param: str(2**64)}, headers=world.headers("operator"))
    assert (param, "less_than_equal") in field_codes(assert_problem(r, 422))


@pytest.mark.parametrize("value", ["0.5", "1700000000", "2026-01-01", "0001-01-01T00:00:00+14:00"])
async def test_date_time_filters_take_only_rfc3339_instants(notifications, tracking, world, value):
    r = await notifications.get("/v1/deliveries", params={"until": value}, headers=world.headers("operator"))
    assert_problem(r, 422)
    r = await tracking.get("/v1/shipments", params={"since": value}, headers=world.headers("operator"))
    assert_problem(r, 422)


async def test_since_must_be_before_until(notifications, world):
    r = await notifications.get(
        "/v1/deliveries",
        params={"since": "2026-02-01T00:00:00+03:00", "until": "2026-01-01T00:00:00+03:00"},
        headers=world.headers("operator"),
    )
    assert_problem(r, 422, "validation_failed")


# --------------------------------------------------------------------------- business rules


@pytest.mark.parametrize("word", ["abc", "a" * 33, "a" * 65, "iki kelime"])
async def test_the_security_word_has_one_limit_and_one_message(applications, world, word):
    url = "/v1/applicant/application/security-word"
    r = await applications.put(
        url, json={"security_word": word}, headers={**world.headers("applicant"), "Accept-Language": "en"}
    )
    body = assert_problem(r, 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("security_word", "security_word_invalid")]
    assert body["errors"][0]["message"].startswith("The security word must be 4 to 32 letters or digits")
    # Turkish by default: the same one message, in the applicant page's words.
    turkish = assert_problem(
        await applications.put(url, json={"security_word": word}, headers=world.headers("applicant")), 422
    )
    assert turkish["errors"][0]["message"].startswith("Güvenlik sözcüğü 4–32 harf veya rakamdan")


async def test_production_needs_validity_start_before_its_end(applications, world):
    r = await applications.post(
        f"/v1/applications/{world.application_id}/production",
        json={
            "certificate_serial": "7F:01",
            "not_before": "2029-01-01T00:00:00+03:00",
            "not_after": 1700000000,
        },
        headers=world.headers("operator"),
    )
    assert ("not_after", "value_error") in field_codes(assert_problem(r, 422))


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", 1e300])
async def test_a_signed_webhook_at_the_edge_of_time_is_refused_not_a_500(tracking, occurred_at):
    body = json.dumps(
        {"event_id": f"evt-{uuid.uuid4().hex}", "tracking_number": "SIM1", "status": "x", "occurred_at": occurred_at}
    ).encode()
    assert_problem(await send_webhook(tracking, body), 422)


@pytest.mark.parametrize(
    "column, value",
    [("title", '=HYPERLINK("http://x.test","tıkla")'), ("unit", "@SUM(1+1)"), ("title", "+90 cmd"), ("unit", "-2+3")],
)
async def test_a_staff_list_cell_a_spreadsheet_would_run_is_refused_and_nothing_stored(
    applications, world, column, value
):
    row = {**person(9_100, "formula.edu.tr"), column: value}
    r = await applications.post(
        f"/v1/institutions/{world.institution_id}/roster",
        content=roster_csv([row], delimiter=";"),
        headers={**world.headers("officer"), "Content-Type": "text/csv"},
    )
    body = assert_problem(r, 422, "roster_invalid")
    assert (f"rows.2.{column}", "text_formula") in field_codes(body)
    r = await applications.get("/v1/applications", params={"q": "formula.edu.tr"}, headers=world.headers("officer"))
    assert r.json()["total"] == 0


# --------------------------------------------------------------------------- tokens


def forged(claims: dict, *, key: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    now = datetime.now(UTC)
    base = {
        "iss": LOCAL_ISSUER,
        "aud": "esign",
        "sub": "officer",
        "exp": now + timedelta(minutes=5),
        "esign_role": "institution_officer",
        "institution_id": "00000000-0000-0000-0000-000000000001",
    }
    return jwt.encode({**base, **claims}, key, algorithm=algorithm)


TOKENS = {
    "alg none": jwt.encode(
        {"iss": LOCAL_ISSUER, "aud": "esign", "sub": "x", "exp": 4102444800, "esign_role": "ca_operator"},
        None,
        algorithm="none",
    ),
    "expired": forged({"exp": datetime.now(UTC) - timedelta(minutes=1)}),
    "wrong audience": forged({"aud": "another-platform"}),
    "wrong issuer": forged({"iss": "https://idp.elsewhere.test"}),
    "wrong key": forged({}, key="not-the-secret-0123456789-0123456789"),
    "institution is a number": forged({"institution_id": 12345}),
    "institution is a list": forged({"institution_id": ["00000000-0000-0000-0000-000000000001"]}),
    "institution is an object": forged({"institution_id": {"id": 1}}),
    "subject is a number": forged({"sub": 42}),
    "role is a list": forged({"esign_role": ["ca_operator"]}),
    "name is a list": forged({"name": ["Ayşe"]}),
}


@pytest.mark.parametrize("kind", TOKENS)
async def test_a_bad_token_is_a_401_on_every_service(applications, notifications, tracking, kind):
    for client, path in (
        (applications, "/v1/institutions"),
        (notifications, "/v1/deliveries"),
        (tracking, "/v1/shipments"),
    ):
        r = await client.get(path, headers=bearer(TOKENS[kind]))
        assert_problem(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"] == "Bearer"


# --------------------------------------------------------------------------- methods


@pytest.mark.parametrize(
    "service, path, allowed",
    [
        ("applications", "/v1/institutions", "GET, POST"),
        ("applications", "/v1/applicant/application/form", "PATCH"),
        ("tracking", "/v1/public/shipment-queries", "POST"),
    ],
)
async def test_405_lists_every_method_the_path_answers(applications, tracking, service, path, allowed):
    client = {"applications": applications, "tracking": tracking}[service]
    r = await client.delete(path)
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == allowed


# --------------------------------------------------------------------------- OpenAPI


@pytest.mark.parametrize("service", ["applications", "notifications", "tracking"])
async def test_the_openapi_documents_the_problem_answers_as_they_are(applications, notifications, tracking, service):
    client = {"applications": applications, "notifications": notifications, "tracking": tracking}[service]
    doc = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, (method, path)
            if operation.get("requestBody"):
                assert "413" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith("4"):
                    assert list(response["content"]) == [PROBLEM], (method, path, status)
                    assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}


async def test_the_openapi_states_the_business_limits(applications, notifications):
    doc = (await applications.get("/openapi.json")).json()
    word = doc["components"]["schemas"]["SecurityWordIn"]["properties"]["security_word"]
    assert "{4,32}" in word["pattern"] and "maxLength" not in word
    production = doc["components"]["schemas"]["ProductionIn"]["properties"]
    assert "before `not_after`" in production["not_before"]["description"]
    doc = (await notifications.get("/openapi.json")).json()
    params = {p["name"]: p for p in doc["paths"]["/v1/deliveries"]["get"]["parameters"]}
    assert "before `until`" in params["since"]["description"]
    assert params["offset"]["schema"]["maximum"] == 1_000_000_000
    assert params["until"]["schema"]["anyOf"][0]["format"] == "date-time"


# Kept for the reader: the webhook's own body limit (64 KiB) answers 413 below the service's limit.
async def test_a_webhook_over_its_own_limit_is_a_413(tracking):
    body = json.dumps({"event_id": "x" * (70 * 1024)}).encode()
    assert_problem(await send_webhook(tracking, body), 413, "payload_too_large")
