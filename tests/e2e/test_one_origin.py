"""One origin: `esign up` runs Debian's nginx, configured from the route table, in front of the
real services. Everything a person or the carrier reaches goes through it to the right service;
health, metrics and /v1/ops do not, and an unknown path is a problem+json 404."""

from __future__ import annotations

import re

import httpx
import pytest

from esign.routes import INTERNAL_PREFIXES, ROUTES

pytestmark = pytest.mark.e2e
NGINX_404 = "Nothing is served at this address."


@pytest.fixture(scope="module")
def platform(running_platform):
    return running_platform


@pytest.fixture(scope="module")
def origin(platform):
    with httpx.Client(base_url=platform.origin, timeout=30) as client:
        yield client


def direct(platform, service: str) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{platform.ports[service]}", timeout=30)


def test_pages_and_apis_of_every_service_answer_on_the_one_origin(platform, origin):
    operator = platform.token("ca_operator")
    for page in ("/apply", "/gonderi-sorgulama"):
        r = origin.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), page
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.text == direct(platform, "applications" if page == "/apply" else "tracking").get(page).text

    created = origin.post("/v1/institutions", json={"name": "Tek Köken Üniversitesi"}, headers=operator)
    assert created.status_code == 201, created.text
    institution = created.json()["id"]
    # Written through the proxy, read on the service's own port: the same service and database.
    assert (
        direct(platform, "applications").get(f"/v1/institutions/{institution}", headers=operator).json()["name"]
        == "Tek Köken Üniversitesi"
    )
    assert origin.get("/v1/deliveries", params={"limit": 1}, headers=operator).status_code == 200
    assert origin.get("/v1/shipments", headers=operator).status_code == 200
    # The services still refuse anonymous staff calls themselves.
    anonymous = origin.get("/v1/institutions")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    # A public endpoint of the tracking service: its own refusal, not the proxy's 404.
    query = origin.post("/v1/public/shipment-queries", json={"tracking_number": "SIM0", "mobile_last4": "0000"})
    assert query.status_code in (404, 422) and query.json().get("detail") != NGINX_404


def test_every_route_goes_to_its_service_and_nothing_internal_goes_out(platform, origin):
    """Each service's own OpenAPI document (read on its own port) against the running nginx: the
    same request answers the same through the one origin as on the service's own port (another
    service would answer 404 for a path it does not have), and internal paths get nginx's 404."""
    for service in sorted({r.service for r in ROUTES}):
        own_port = direct(platform, service)
        for path, operations in own_port.get("/openapi.json").json()["paths"].items():
            url = path.replace("{", "x").replace("}", "x")
            method = "GET" if "get" in operations else next(iter(operations)).upper()
            request = {"headers": {"Content-Type": "application/json"}, "content": b"{}"}
            through = origin.request(method, url, **request)
            if path.startswith(INTERNAL_PREFIXES):
                assert through.status_code == 404 and through.json()["detail"] == NGINX_404, f"{path} is exposed"
            else:
                expected = own_port.request(method, url, **request).status_code
                assert through.status_code == expected, f"{method} {path}: not {service}'s answer"
                assert through.status_code != 404 or through.json().get("detail") != NGINX_404, path
    for internal in ("/metrics", "/livez", "/readyz"):
        assert direct(platform, "applications").get(internal).status_code == 200, internal
        r = origin.get(internal)
        assert r.status_code == 404 and r.json()["detail"] == NGINX_404, internal


def test_unknown_paths_are_a_problem_404_matched_by_path_element(origin):
    root = origin.get("/", follow_redirects=False)
    assert root.status_code == 302 and root.headers["location"].endswith("/console/")
    for path in ("/nope", "/v1/batchesx", "/v1/carrier/webhooks/extra", "/applyx", "/openapi.json"):
        r = origin.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "not_found"


def test_every_services_api_docs_are_on_the_one_origin_and_load_nothing_from_elsewhere(platform, origin):
    for service in sorted({r.service for r in ROUTES}):
        base = f"/docs/{service}/"
        assert origin.get(f"/docs/{service}").headers["location"].endswith(base)
        page = origin.get(base)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), service
        references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert len(references) == 4, references  # icon, style sheet, Swagger UI, its start-up script
        for reference in references:
            assert "//" not in reference and not reference.startswith("/"), f"{service}: {reference}"
            assert origin.get(base + reference).status_code == 200, f"{service}: {reference}"
        assert "<script>" not in page.text  # no inline code
        document = origin.get(base + "openapi.json").json()
        assert document["info"]["title"] == f"esign {service}"
        # Only the docs: nothing else of the service is reachable under its docs prefix.
        for other in ("metrics", "livez", "v1/ops/dead-letters", "docs/../metrics"):
            r = origin.get(base + other)
            assert r.status_code == 404 and r.json()["detail"] == NGINX_404, f"{service}: {other}"
