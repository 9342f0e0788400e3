"""Every log line is one JSON object with personal data masked, whoever writes it: our handlers,
an unexpected error's traceback, uvicorn, nats-py. An unexpected error never prints the SQL
parameters that carried a TC Kimlik No or a birth date."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from esign import jetstream
from esign.db import make_engine
from esign.embedded import EmbeddedNats, EmbeddedPostgres
from esign.observability import configure_logging
from esign.service import install_api_layers
from tests.support.browser import served

TCKN, BIRTH_DATE = "10000000146", "1985-04-12"


def json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        assert line.startswith("{"), f"not a JSON line: {line!r}"
    return [json.loads(line) for line in lines]


async def test_an_unhandled_database_error_is_one_masked_json_line_without_parameters(
    postgres: EmbeddedPostgres, capfd
):
    engine = make_engine(postgres.ensure_database("esign_logging_test"))
    configure_logging("INFO", json_output=True)
    app = FastAPI()
    install_api_layers(app, service="logging-test", max_body_bytes=1024)

    @app.get("/v1/search")
    async def search(q: str) -> dict:
        async with engine.connect() as conn:
            # Fails in PostgreSQL with the search text as a parameter, as a broken query would.
            await conn.execute(sa.text("SELECT CAST(:q AS integer)"), {"q": q})
        return {}

    capfd.readouterr()
    async with served(app) as url, httpx.AsyncClient(base_url=url) as client:
        r = await client.get("/v1/search", params={"q": f"{BIRTH_DATE} {TCKN}"})
    await engine.dispose()
    assert r.status_code == 500 and r.json()["code"] == "internal_error"
    assert r.headers["content-type"].startswith("application/problem+json")
    captured = capfd.readouterr()
    output = captured.out + captured.err
    lines = json_lines(output)
    errors = [line for line in lines if line["event"] == "unhandled_error"]
    assert len(errors) == 1 and "DataError" in errors[0]["exception"]
    assert TCKN not in output and BIRTH_DATE not in output
    assert "Exception in ASGI application" not in output


async def test_library_errors_and_nats_connection_errors_are_json_lines(scratch_dir, capfd):
    configure_logging("INFO", json_output=True)
    capfd.readouterr()
    try:
        raise ValueError(f"a library's error about {TCKN}")
    except ValueError:
        logging.getLogger("some.library").exception("library failed")
    server = EmbeddedNats(scratch_dir / "nats-logging").start()
    nc = await jetstream.connect(server.url, name="logging-test")
    server.stop()  # nats-py now fails to reconnect, once a second
    output = ""
    deadline = asyncio.get_running_loop().time() + 30
    while "nats_error" not in output and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        output += capfd.readouterr().err
    await nc.close()
    lines = json_lines(output)
    library = next(line for line in lines if line["event"] == "library failed")
    assert library["logger"] == "some.library" and "ValueError" in library["exception"]
    assert TCKN not in output
    events = {line["event"] for line in lines}
    assert {"nats_disconnected", "nats_error"} <= events
