"""The route table's matching, and the nginx configuration made from it as nginx itself reads it."""

from __future__ import annotations

import subprocess

from esign.local_stack import NGINX
from esign.routes import ROUTES, SIGN_IN_SERVICE, Route, nginx_config, route_for


def test_matching_is_by_path_element_with_the_longest_prefix_winning():
    table = [Route("/v1/a", "one"), Route("/v1/a/b", "two"), Route("/hook", "three", exact=True)]
    assert route_for("/v1/a", table).service == "one"
    assert route_for("/v1/a/x/y", table).service == "one"
    assert route_for("/v1/a/b/c", table).service == "two"
    assert route_for("/v1/ab", table) is None
    assert route_for("/hook", table).service == "three"
    assert route_for("/hook/x", table) is None


def test_every_route_has_one_owner_and_staff_routes_are_apis():
    assert len({r.path for r in ROUTES}) == len(ROUTES)
    assert all(r.path.startswith("/v1/") for r in ROUTES if r.staff)
    assert route_for("/auth/check") is None  # the session check is never public


def test_nginx_accepts_the_generated_configuration(tmp_path):
    upstreams = {service: f"127.0.0.1:{8001 + i}" for i, service in enumerate(sorted({r.service for r in ROUTES}))}
    config = nginx_config(
        listen="127.0.0.1:18000",
        upstreams=upstreams,
        run_dir=tmp_path,
        sign_in_service=SIGN_IN_SERVICE,
        docs_services=upstreams,
        ops_services=upstreams,
    )
    (tmp_path / "nginx.conf").write_text(config)
    check = subprocess.run(
        [str(NGINX), "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf"), "-t"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    # Each staff route asks the session check; no other route does.
    for route in ROUTES:
        block = config.split(f"location = {route.path} {{", 1)[1].split("}", 1)[0]
        assert ("auth_request /auth/check;" in block) == route.staff, route.path
