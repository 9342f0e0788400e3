"""The one table of what the public origin sends where: path → service.

Two things are made from it and checked against it, so they cannot drift apart: the nginx
configuration `esign up` runs in front of the services on one local port (``nginx_config``), and
the Kubernetes Ingresses in ``deploy/k8s/ingress.yaml`` (tests/deploy). Matching is the Ingress's:
``exact`` is the path alone; otherwise the path and everything below it, by path element (so
``/v1/batches`` does not also catch ``/v1/batchesx``). Anything not in the table is not exposed:
health, metrics, ``/v1/ops`` and the session check stay on the services' own ports.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Route:
    path: str
    service: str
    exact: bool = False
    # Staff APIs: a request without its own Authorization header gets one from the console's
    # cookie session (nginx auth_request locally, the Ingress's auth-url in production).
    staff: bool = False


ROUTES: tuple[Route, ...] = (
    # applications
    Route("/apply", "applications"),
    Route("/v1/applicant", "applications"),
    Route("/renew", "applications"),  # the renewal page and the Renewal Form (/renew/form)
    Route("/v1/renewal", "applications"),  # the holder's renewal (card sign-in), no staff session
    Route("/v1/renewal-forms", "applications"),  # the Renewal Form link
    Route("/v1/applications", "applications", staff=True),
    Route("/v1/batches", "applications", staff=True),
    Route("/v1/institutions", "applications", staff=True),
    Route("/v1/renewals", "applications", staff=True),
    # the staff console and its sign-in (hosted by SIGN_IN_SERVICE)
    Route("/console", "applications"),
    Route("/auth/login", "applications", exact=True),
    Route("/auth/callback", "applications", exact=True),
    Route("/auth/local", "applications"),
    Route("/auth/session", "applications", exact=True),
    Route("/auth/logout", "applications", exact=True),
    # notifications
    Route("/v1/deliveries", "notifications", staff=True),
    Route("/v1/templates", "notifications", staff=True),
    # tracking
    Route("/gonderi-sorgulama", "tracking"),
    Route("/v1/public", "tracking"),
    Route("/v1/carrier/webhooks", "tracking", exact=True),
    Route("/v1/shipments", "tracking", staff=True),
    # every service's dead letters (operators): the service's name in the path picks the service
    Route("/v1/dead-letters/applications", "applications", staff=True),
    Route("/v1/dead-letters/notifications", "notifications", staff=True),
    Route("/v1/dead-letters/tracking", "tracking", staff=True),
)

# Never through the public origin, whatever a route above would match.
INTERNAL_PREFIXES = ("/livez", "/readyz", "/metrics", "/v1/ops/", "/auth/check")

# Local only (not in the Ingress): each service's internal /v1/ops endpoints (the simulated
# carrier) under /ops/<service>/v1/ops/, behind the console session. In production /v1/ops stays
# inside the cluster. (Dead letters are an ordinary staff API: /v1/dead-letters/<service> above.)
OPS_PREFIX = "/ops"


def route_for(path: str, routes: Iterable[Route] = ROUTES) -> Route | None:
    """The route the origin sends ``path`` to: exact, or the longest prefix by path element."""
    matches = [r for r in routes if path == r.path or (not r.exact and path.startswith(r.path.rstrip("/") + "/"))]
    return max(matches, key=lambda r: len(r.path)) if matches else None


def services(routes: Iterable[Route] = ROUTES) -> list[str]:
    return sorted({r.service for r in routes})


# --- nginx -----------------------------------------------------------------------------------

SIGN_IN_SERVICE = "applications"  # hosts the console's sign-in and session check (docs/console.md)
SESSION_CHECK_PATH = "/auth/check"  # internal: reached only by the proxy's auth_request / auth-url
_NOT_FOUND = {
    "type": "urn:esign:problem:not_found",
    "title": "Not found",
    "status": 404,
    "code": "not_found",
    "detail": "Nothing is served at this address.",
}
# nginx's auth_request keeps only the status of the check's answer, so the problem bodies for
# the two refusals the check makes are written here (the check's own body says the same).
_CHECK_REFUSALS = {
    401: {
        "type": "urn:esign:problem:session_expired",
        "title": "Session expired",
        "status": 401,
        "code": "session_expired",
        "detail": "The sign-in session has ended; sign in again.",
    },
    403: {
        "type": "urn:esign:problem:csrf_failed",
        "title": "CSRF check failed",
        "status": 403,
        "code": "csrf_failed",
        "detail": "A state-changing request from the console must carry its X-CSRF-Token header.",
    },
}


# proxy_set_header is inherited only by a location that sets none itself: one that does repeats these.
_PROXY_HEADERS = (
    "proxy_set_header Connection '';",
    "proxy_set_header Host $http_host;",
    "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_set_header X-Forwarded-Host $http_host;",
)


def _json_literal(body: dict) -> str:
    # A single-quoted nginx string: JSON never holds a single quote here, backslashes are doubled.
    return "'" + json.dumps(body, ensure_ascii=True).replace("\\", "\\\\") + "'"


def _locations(route: Route) -> list[str]:
    if route.exact:
        return [f"= {route.path}"]
    base = route.path.rstrip("/")
    return [f"= {base}", f"{base}/"]


def nginx_config(
    *,
    listen: str,
    upstreams: Mapping[str, str],
    run_dir: Path,
    sign_in_service: str | None = None,
    docs_services: Iterable[str] = (),
    ops_services: Iterable[str] = (),
    routes: Iterable[Route] = ROUTES,
) -> str:
    """An nginx configuration serving ``routes`` on ``listen`` (``host:port``), each to its
    service at ``upstreams[service]`` (``host:port``). ``run_dir`` holds the pid file, the error
    log and the temporary files, so nginx runs unprivileged with nothing outside it. With
    ``sign_in_service``, staff routes first ask that service's session check (cookie → bearer).
    Each of ``docs_services`` gets its interactive API docs at ``/docs/<service>/``; each of
    ``ops_services`` its ``/v1/ops/`` endpoints at ``/ops/<service>/v1/ops/`` (local runs only)."""
    routes = [r for r in routes if r.service in upstreams]
    run = run_dir.resolve()
    lines = [
        "# Generated by esign from esign/routes.py; do not edit (it is rewritten at each start).",
        "worker_processes 1;",
        "daemon off;",
        f"pid {run}/nginx.pid;",
        f"error_log {run}/error.log warn;",
        "events { worker_connections 512; }",
        "http {",
        "  access_log off;",
        "  server_tokens off;",
        "  client_max_body_size 6m;  # staff lists up to 5 MiB, signed forms",
        *(f"  {kind}_temp_path {run}/tmp-{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        "  proxy_http_version 1.1;",
        *(f"  {h}" for h in _PROXY_HEADERS),
        # Streams bodies both ways instead of spilling them to temporary files.
        "  proxy_request_buffering off;",
        "  proxy_buffering off;",
        "  proxy_read_timeout 120s;",
    ]
    for service in sorted(upstreams):
        lines += [f"  upstream {service} {{ server {upstreams[service]}; keepalive 8; }}"]
    lines += [
        "  server {",
        f"    listen {listen};",
        # nginx's own 404s (an unknown path, an internal location asked from outside) as problem+json.
        "    error_page 404 = @not_found;",
        "    location @not_found {",
        "      default_type application/problem+json;",
        f"      return 404 {_json_literal(_NOT_FOUND)};",
        "    }",
    ]
    if sign_in_service:
        lines += [
            f"    location = {SESSION_CHECK_PATH} {{",
            "      internal;",
            f"      proxy_pass http://{sign_in_service};",
            "      proxy_pass_request_body off;",
            *(f"      {h}" for h in _PROXY_HEADERS),
            "      proxy_set_header Content-Length '';",
            "      proxy_set_header X-Original-Method $request_method;",
            "      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;",
            "    }",
        ]
        for status, body in _CHECK_REFUSALS.items():
            lines += [
                f"    location @refused_{status} {{",
                "      default_type application/problem+json;",
                "      add_header Cache-Control no-store always;",
                f"      return {status} {_json_literal(body)};",
                "    }",
            ]
    session_lines = []
    if sign_in_service:
        session_lines = [
            *(f"      {h}" for h in _PROXY_HEADERS),
            f"      auth_request {SESSION_CHECK_PATH};",
            "      auth_request_set $esign_authorization $upstream_http_authorization;",
            # The check answers the caller's own header back, or the session's bearer token, or
            # nothing (the service then refuses an anonymous call itself).
            "      proxy_set_header Authorization $esign_authorization;",
            "      error_page 401 = @refused_401;",
            "      error_page 403 = @refused_403;",
        ]
    for route in sorted(routes, key=lambda r: r.path):
        for location in _locations(route):
            lines += [f"    location {location} {{", *(session_lines if route.staff else [])]
            lines += [f"      proxy_pass http://{route.service};", "    }"]
    for service in sorted(set(ops_services) & set(upstreams)):
        lines += [
            f"    location {OPS_PREFIX}/{service}/v1/ops/ {{",
            *session_lines,
            f"      proxy_pass http://{service}/v1/ops/;",
            "    }",
        ]
    for service in sorted(set(docs_services) & set(upstreams)):
        # Only the docs page, its assets and the OpenAPI document: nothing else of the service.
        lines += [
            f"    location = /docs/{service} {{ return 301 /docs/{service}/; }}",
            f"    location = /docs/{service}/ {{ proxy_pass http://{service}/docs; }}",
            f"    location = /docs/{service}/openapi.json {{ proxy_pass http://{service}/openapi.json; }}",
            f"    location /docs/{service}/docs/ {{ proxy_pass http://{service}/docs/; }}",
        ]
    # The address `esign up` prints first leads somewhere: the staff console (which sends a stranger
    # to its sign-in page); every other unknown path stays a 404.
    lines += ["    location = / { return 302 /console/; }", "    location / { return 404; }", "  }", "}"]
    return "\n".join(lines) + "\n"


# --- docker compose ---------------------------------------------------------------------------

COMPOSE_NGINX_CONF = "deploy/compose/nginx.conf"
COMPOSE_PORTS = {"applications": 8001, "notifications": 8002, "tracking": 8003}


def compose_nginx_config() -> str:
    """The compose stack's one origin (its ``proxy`` service, the official nginx image), made from
    the same table as `esign up`'s: each upstream is the compose service of that name. Committed as
    ``deploy/compose/nginx.conf`` (the container has no esign to generate it); tests/deploy checks
    it is this. Regenerate: ``python -c "from esign.routes import compose_nginx_config as c;
    print(c(), end='')" > deploy/compose/nginx.conf``."""
    config = nginx_config(
        listen="0.0.0.0:8000",
        upstreams={name: f"{name}:{port}" for name, port in COMPOSE_PORTS.items()},
        run_dir=Path("/tmp"),
        sign_in_service=SIGN_IN_SERVICE,
        docs_services=COMPOSE_PORTS,
        ops_services=COMPOSE_PORTS,
    )
    return config.replace(
        "do not edit (it is rewritten at each start).",
        f"do not edit ({COMPOSE_NGINX_CONF}: tests/deploy checks it).",
    ).replace("error_log /tmp/error.log warn;", "error_log stderr warn;")  # `docker compose logs proxy`
