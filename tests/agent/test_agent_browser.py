"""A real browser: headless Chromium opens a page served on localhost, loads the client from
docs/agent-protocol.md, reads the certificate and signs; a page from another origin is refused.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.browser import headless_chromium

from .test_agent_protocol import verify

PROTOCOL_DOC = Path(__file__).resolve().parents[2] / "docs" / "agent-protocol.md"


def documented_client() -> str:
    """The client code block of the protocol document, verbatim."""
    match = re.search(r"```js\n(// agent-client\.js.*?)```", PROTOCOL_DOC.read_text(encoding="utf-8"), re.S)
    assert match, "docs/agent-protocol.md lost its client code block"
    return match[1]


PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>e-imza</title>
<script src="/agent-client.js"></script></head><body>e-onay</body></html>"""


@pytest.fixture(scope="module")
def site() -> Iterator[int]:
    """The signing site, on a free port of 127.0.0.1. Reached as http://localhost:<port> it is
    another origin, which the agent does not allow."""
    files = {
        "/": (PAGE, "text/html"),
        "/agent-client.js": (documented_client().encode(), "text/javascript"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = files.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
async def chromium():
    async with headless_chromium() as browser:
        yield browser


SIGN_IN_PAGE = """async ({port, pin}) => {
  const agent = await EsignAgent.connect({port});
  const events = [];
  agent.onevent = (e) => events.push(e.event);
  const card = (await agent.listTokens()).find((t) => t.label === "esign-test");
  const certs = await agent.getCertificates(card.id);
  const cert = certs.find((c) => c.mechanisms.includes("RSA_PSS_SHA256"));
  const data = new TextEncoder().encode("imzalanacak öznitelikler");
  let wrongPin;
  try {
    await agent.sign({token: card.id, certificate: cert.fingerprint,
                      mechanism: "RSA_PSS_SHA256", data, pin: "000000"});
  } catch (e) {
    wrongPin = {name: e.name, code: e.code, pin: e.error.pin};
  }
  const retry = await agent.request("sign", {
    token: card.id, certificate: cert.fingerprint, mechanism: "RSA_PSS_SHA256",
    data: bytesToBase64(data), pin,
  }).catch((e) => e.code);
  agent.close();
  return {hello: agent.hello, holder: cert.holder_name, tckn: cert.tc_kimlik_no, der: cert.der,
          wrongPin, retry, origin: location.origin,
          ders: Object.fromEntries(certs.map((c) => [c.fingerprint, c.der]))};
}"""


async def test_page_in_chromium_reads_the_certificate_and_signs(start_agent, softhsm, site, chromium):
    origin = f"http://127.0.0.1:{site}"
    # Back-off off, so the page can sign right after its wrong-PIN attempt.
    agent = await start_agent(allow_origins=(origin,), wrong_pin_delay=0.0)
    page = await chromium.new_page()
    try:
        await page.goto(f"{origin}/")
        result = await page.evaluate(SIGN_IN_PAGE, {"port": agent.port, "pin": softhsm.main.pin})
        signature = await page.evaluate(
            """async ({port, pin, fp, token}) => {
              const agent = await EsignAgent.connect({port});
              const data = new TextEncoder().encode("imzalanacak öznitelikler");
              const sig = await agent.sign({token, certificate: fp, mechanism: "ECDSA_SHA256",
                                            data, pin});
              return bytesToBase64(sig);
            }""",
            {
                "port": agent.port,
                "pin": softhsm.main.pin,
                "fp": softhsm.main.fp("ec-p384"),
                "token": softhsm.main.id,
            },
        )
    finally:
        await page.close()
    assert result["origin"] == origin
    assert result["hello"]["protocol"] == "esign-agent.v1"
    assert (result["holder"], result["tckn"]) == ("Çağrı Işıkoğlu Şenöz", "10000000146")
    assert result["wrongPin"] == {
        "name": "AgentError",
        "code": "PIN_INCORRECT",
        "pin": {"count_low": True, "final_try": False, "locked": False},
    }
    data = "imzalanacak öznitelikler".encode()
    verify(
        base64.b64decode(result["der"]),
        "RSA_PSS_SHA256",
        data,
        base64.b64decode(result["retry"]["signature"]),
    )
    p384_der = base64.b64decode(result["ders"][softhsm.main.fp("ec-p384")])
    verify(p384_der, "ECDSA_SHA256", data, base64.b64decode(signature))


async def test_page_from_another_origin_is_refused(start_agent, softhsm, site, chromium, caplog):
    agent = await start_agent(allow_origins=(f"http://127.0.0.1:{site}",))
    other = f"http://localhost:{site}"
    page = await chromium.new_page()
    try:
        await page.goto(f"{other}/")
        outcome = await page.evaluate(
            """async (port) => {
              try { await EsignAgent.connect({port}); return "connected"; }
              catch (e) { return `${e.name}:${e.reason}`; }
            }""",
            agent.port,
        )
    finally:
        await page.close()
    assert outcome == "AgentUnavailable:unreachable"
    assert f"origin={other} op=connect result=ORIGIN_NOT_ALLOWED" in caplog.text
