"""Fixtures of the end-to-end tests that run the platform's processes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support.faults import FaultPlatform
from tests.support.platform import platform_in_scratch_dir


@pytest.fixture
async def platform_of():
    """Starts platforms of the asked shape (``nats_nodes``, ``replicas``); stops them after the test."""
    started: list[FaultPlatform] = []
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as its own user.
    scratch = tempfile.TemporaryDirectory(prefix="esign-faults-")
    os.chmod(scratch.name, 0o755)

    async def start(**shape) -> FaultPlatform:
        platform = FaultPlatform(Path(scratch.name) / f"p{len(started)}", **shape)
        started.append(platform)
        return await platform.start()

    yield start
    for platform in started:
        await platform.stop()
    scratch.cleanup()


@pytest.fixture(scope="module")
def running_platform():
    """The platform as `esign up` runs it, once per test module that asks for it."""
    with platform_in_scratch_dir() as p:
        p.up()
        yield p
        p.ctrl_c()


@pytest.fixture
def platform():
    """A platform not started yet, for a test that starts `esign up` with its own settings."""
    with platform_in_scratch_dir() as p:
        yield p
