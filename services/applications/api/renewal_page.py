"""The renewal page, where every expiry warning leads: ``/renew`` (the holder signs in with the
current card through esign-agent, corrects the request and gives the E-Onay) and
``/renew/form`` (the Renewal Form e-mailed after the officer files). One static page with both
views; it drives the ``/v1/renewal`` and ``/v1/renewal-forms`` API and, over the loopback
WebSocket, the signing agent (with the client documented in docs/agent-protocol.md)."""

from __future__ import annotations

from pathlib import Path

from esign.pages import AGENT_CLIENT, AGENT_CONNECT_SOURCES, static_page_router

ROUTER = static_page_router(
    "/renew",
    Path(__file__).parent.parent / "static",
    "yenileme",
    title="E-imza yenileme (renewal page)",
    tags=["renewal page"],
    also_at=["/renew/form"],
    shared_scripts={"agent-client.js": AGENT_CLIENT},
    connect_sources=AGENT_CONNECT_SOURCES,
)
