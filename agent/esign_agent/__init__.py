"""esign-agent: the workstation's e-signature card, reachable from allowed web pages over a
WebSocket on 127.0.0.1 (docs/agent.md, docs/agent-protocol.md)."""
