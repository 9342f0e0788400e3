"""Schemathesis against every service's OpenAPI, over real HTTP, once per role (a CA operator, an
NES officer, an applicant and no token): no 5xx, every answer's status, content type, headers and
body as documented, schema-breaking input refused, stateful sequences where the schema links
operations. Bounded (few examples per operation, fixed seed) so it stays a part of `make test`.

Schemathesis runs as its own process (its CLI, pinned in pyproject.toml) against the services the
fixtures serve; its report is the assertion message when it finds something."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ROLES = ("operator", "officer", "applicant", "anonymous")
SERVICES = ("applications", "notifications", "tracking")
MAX_EXAMPLES = 8


async def fuzz(base_url: str, headers: dict[str, str], report_dir: Path) -> tuple[int, str]:
    """One Schemathesis run; its exit code and report."""
    args = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/openapi.json",
        "--checks=all",
        # Left out, on purpose: the fuzzer's own idea of authorization does not know our roles (the
        # role matrices test them); and "schema-valid must be accepted" cannot hold where a rule is
        # beyond JSON Schema (NUL characters, text that is blank once trimmed, reserved e-mail
        # domains, a status conflict): those get a 4xx the schema documents, which is checked.
        "--exclude-checks=ignored_auth,object_level_authorization,positive_data_acceptance",
        f"--max-examples={MAX_EXAMPLES}",
        "--seed=14",
        "--workers=1",
        "--no-shrink",
        "--request-timeout=30",
        "--suppress-health-check=all",
        "--warnings=off",
        f"--report-dir={report_dir}",
    ]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    report_dir.mkdir()
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={"NO_COLOR": "1", "PATH": ""},
        cwd=report_dir,  # its cache directory goes there too
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    (report_dir / "schemathesis.txt").write_text(report)
    return process.returncode, report


@pytest.mark.parametrize("service", SERVICES)
async def test_the_api_answers_everything_as_documented(service, base_urls, world, tmp_path):
    # The four roles at once: the fuzzer processes and the service share the cores.
    results = await asyncio.gather(*(fuzz(base_urls[service], world.headers(role), tmp_path / role) for role in ROLES))
    failed = {role: report for role, (code, report) in zip(ROLES, results, strict=True) if code != 0}
    assert not failed, "\n\n".join(f"=== as {role}\n{report[-8000:]}" for role, report in failed.items())
