"""The public shipment query: the right pair gives the timeline and the city, nothing personal;
an unknown number and a wrong second factor cannot be told apart; the rate limit holds across
requests (PostgreSQL-backed, so across replicas too)."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

import httpx
import pytest

_addresses = (f"198.51.100.{i}" for i in itertools.count(1))


def client_address() -> str:
    """Each test queries from its own address, so the per-address limit is the test's own."""
    return next(_addresses)


async def query(client: httpx.AsyncClient, number: str, last4: str, address: str) -> httpx.Response:
    return await client.post(
        "/v1/public/shipment-queries",
        json={"tracking_number": number, "mobile_last4": last4},
        headers={"X-Forwarded-For": address},
    )


def comparable(r: httpx.Response) -> tuple:
    """Everything a caller sees, except the per-request id."""
    headers = {k: v for k, v in r.headers.items() if k.lower() not in {"x-request-id"}}
    return r.status_code, headers, r.content


async def test_the_right_pair_shows_the_timeline_and_city_only(client, shipments):
    parcel = await shipments.new(mobile="+905551239876", city="Eskişehir", first_name="Zeynep", last_name="Kaya")
    number = parcel["tracking_number"]
    await shipments.advance(number)
    await shipments.advance(number)
    r = await query(client, number.lower(), "9876", client_address())  # typed in lower case: still found
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tracking_number"] == number
    assert body["status"] == "in_transit" and body["status_label"] == "Transfer sürecinde"
    assert body["destination_city"] == "Eskişehir"
    assert [s["status"] for s in body["timeline"]] == ["created", "handed_to_courier", "in_transit"]
    assert set(body) == {"tracking_number", "status", "status_label", "destination_city", "timeline"}
    # A random tracking number, or a timestamp's microseconds, may themselves contain "555".
    shown = r.text.replace(number, "")
    for step in body["timeline"]:
        shown = shown.replace(step["occurred_at"], "")
    for personal in ("Zeynep", "Kaya", "9876", "555", "Çankaya", "06800", "Üniversite"):
        assert personal not in shown
    assert r.headers["cache-control"] == "no-store"


async def test_an_unknown_number_and_a_wrong_second_factor_get_the_same_answer(client, shipments):
    parcel = await shipments.new(mobile="+905321110000")
    address = client_address()
    wrong_digits = await query(client, parcel["tracking_number"], "1234", address)
    unknown_number = await query(client, "SIM9999999999", "1234", address)
    unknown_with_its_digits = await query(client, "SIM9999999999", "0000", address)
    assert wrong_digits.status_code == 404
    assert wrong_digits.json()["code"] == "shipment_query_no_match"
    assert comparable(wrong_digits) == comparable(unknown_number) == comparable(unknown_with_its_digits)


@pytest.mark.parametrize(
    "body",
    [
        {"tracking_number": "SIM1", "mobile_last4": "12"},
        {"tracking_number": "SIM0000000001", "mobile_last4": "12a4"},
        {"tracking_number": "<script>", "mobile_last4": "1234"},
        {"mobile_last4": "1234"},
    ],
)
async def test_malformed_queries_are_refused_with_the_field(client, body):
    r = await client.post("/v1/public/shipment-queries", json=body, headers={"X-Forwarded-For": client_address()})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] in {"tracking_number", "mobile_last4"}


async def test_the_rate_limit_holds_per_client_address(client, shipments, clock, tracking_settings):
    parcel = await shipments.new(mobile="+905321114321")
    address, other = client_address(), client_address()
    clock.frozen = datetime(2026, 3, 2, 10, 1, tzinfo=timezone.utc)  # one window, whatever the wall clock says
    try:
        limit = tracking_settings.public_query_limit
        answers = [await query(client, parcel["tracking_number"], f"{n:04d}", address) for n in range(limit)]
        assert {r.status_code for r in answers} == {404}
        # Over the limit: refused even with the right digits (guessing the 4 digits stays slow).
        refused = await query(client, parcel["tracking_number"], "4321", address)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        assert refused.headers["retry-after"] == "540"  # 600 s windows: this one ends at 10:10
        # Another address is not affected.
        assert (await query(client, parcel["tracking_number"], "4321", other)).status_code == 200
        # The next window starts afresh.
        clock.frozen = datetime(2026, 3, 2, 10, 10, tzinfo=timezone.utc)
        assert (await query(client, parcel["tracking_number"], "4321", address)).status_code == 200
    finally:
        clock.frozen = None


async def test_guesses_of_one_tracking_number_are_limited_whatever_the_address(
    client, shipments, clock, tracking_settings
):
    parcel, other = await shipments.new(mobile="+905321117788"), await shipments.new(mobile="+905321117799")
    number = parcel["tracking_number"]
    clock.frozen = datetime(2026, 3, 3, 9, 5, tzinfo=timezone.utc)  # one hour-long window
    try:
        limit = tracking_settings.public_query_number_limit
        assert limit < 10_000  # the point: fewer guesses than there are four-digit endings
        # Each guess from a fresh address: the per-address limit never applies.
        guesses = [await query(client, number.lower(), f"{n:04d}", client_address()) for n in range(limit)]
        assert {r.status_code for r in guesses} == {404}
        refused = await query(client, f" {number} ", "7788", client_address())  # right digits, same number
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert refused.headers["retry-after"] == "3300"  # the window ends at 10:00
        # Another parcel is not affected.
        assert (await query(client, other["tracking_number"], "7799", client_address())).status_code == 200
        # An unknown number is counted the same way, so the limit does not tell which numbers exist.
        unknown = [await query(client, "SIM8888888888", f"{n:04d}", client_address()) for n in range(limit + 1)]
        assert [r.status_code for r in unknown] == [404] * limit + [429]
        clock.frozen = datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc)
        assert (await query(client, number, "7788", client_address())).status_code == 200
    finally:
        clock.frozen = None


async def test_the_query_page_is_plain_turkish_html_with_its_own_script(client):
    page = await client.get("/gonderi-sorgulama")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Gönderi Sorgulama" in page.text and 'lang="tr"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text  # no third-party assets
    script = await client.get("/gonderi-sorgulama/app.js")
    assert script.status_code == 200 and "/v1/public/shipment-queries" in script.text
    assert (await client.get("/gonderi-sorgulama/style.css")).status_code == 200
