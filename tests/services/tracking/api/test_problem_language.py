"""Problem answers speak Turkish unless the request prefers English (Accept-Language), in every
door an answer can come from: the validation handler, a service refusal, the request guard."""

from __future__ import annotations

import itertools

_addresses = (f"203.0.113.{i}" for i in itertools.count(1))


async def _query(client, body, **headers):
    return await client.post(
        "/v1/public/shipment-queries", json=body, headers={"X-Forwarded-For": next(_addresses), **headers}
    )


async def test_a_field_error_is_turkish_by_default_and_english_on_request(client):
    turkish = await _query(client, {"tracking_number": "SIM0000000001"})
    assert turkish.status_code == 422
    assert turkish.headers["content-language"] == "tr"
    assert "accept-language" in turkish.headers["vary"].lower()
    body = turkish.json()
    assert (body["title"], body["detail"]) == ("İstek geçerli değil", "Her alanın sorunu `errors` içinde.")
    assert body["errors"] == [{"field": "mobile_last4", "code": "missing", "message": "Bu alan zorunludur."}]

    english = await _query(client, {"tracking_number": "SIM0000000001"}, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert english.headers["content-language"] == "en"
    assert english.json()["title"] == "The request is not valid"
    assert english.json()["errors"] == [{"field": "mobile_last4", "code": "missing", "message": "Field required"}]


async def test_a_refusal_and_the_guard_answer_in_the_language_asked(client):
    no_match = await _query(client, {"tracking_number": "SIM7777777777", "mobile_last4": "1234"})
    assert no_match.status_code == 404
    assert no_match.json()["detail"] == "Bu takip numarası ve bu rakamlarla eşleşen bir gönderi yok."
    no_match_en = await _query(
        client, {"tracking_number": "SIM7777777777", "mobile_last4": "1234"}, **{"Accept-Language": "en"}
    )
    assert no_match_en.json()["detail"] == "No shipment matches this tracking number and these digits."
    # The same codes and fields in both: only the words change.
    assert no_match.json()["code"] == no_match_en.json()["code"] == "shipment_query_no_match"

    nul = await client.post(
        "/v1/public/shipment-queries",
        content=b'{"tracking_number": "SIM\\u0000", "mobile_last4": "1234"}',
        headers={"Content-Type": "application/json", "X-Forwarded-For": next(_addresses)},
    )
    assert nul.status_code == 422 and nul.headers["content-language"] == "tr"
    assert nul.json()["errors"][0]["message"] == "Saklanamayan bir karakter (NUL) içeriyor."


async def test_an_operator_refusal_is_turkish_too(client, auth):
    r = await client.get("/v1/shipments", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["title"] == "Kimlik doğrulaması gerekli"
    r = await client.get("/v1/shipments", headers={"Authorization": "Bearer not-a-token", "Accept-Language": "en"})
    assert r.json()["title"] == "Authentication required"
