// agent-client.js — a small client for esign-agent (protocol esign-agent.v1).

class AgentUnavailable extends Error {
  constructor(reason) {
    super(`The signing agent is not available (${reason}).`);
    this.name = "AgentUnavailable";
    this.reason = reason; // "unreachable" | "timeout" | "closed"
  }
}

class AgentError extends Error {
  constructor(error) {
    super(error.message);
    this.name = "AgentError";
    this.code = error.code; // one of the stable codes, e.g. "PIN_INCORRECT"
    this.error = error; // with extra fields such as pin or retry_after
  }
}

function bytesToBase64(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function base64ToBytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

class EsignAgent {
  // Connects and says hello. Rejects with AgentUnavailable if no agent answers in time.
  static async connect({ port = 47100, timeoutMs = 3000 } = {}) {
    const ws = await new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}`, "esign-agent.v1");
      const timer = setTimeout(() => {
        socket.close();
        reject(new AgentUnavailable("timeout"));
      }, timeoutMs);
      socket.onopen = () => {
        clearTimeout(timer);
        resolve(socket);
      };
      socket.onerror = () => {
        clearTimeout(timer);
        reject(new AgentUnavailable("unreachable"));
      };
    });
    const agent = new EsignAgent(ws);
    agent.hello = await agent.request("hello", {}, timeoutMs);
    return agent;
  }

  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.onevent = null; // set to a function to receive token_inserted / token_removed
    ws.onmessage = (message) => {
      const msg = JSON.parse(message.data);
      if (msg.event) {
        if (this.onevent) this.onevent(msg);
        return;
      }
      const call = this.pending.get(msg.id);
      if (!call) return;
      this.pending.delete(msg.id);
      if (msg.ok) call.resolve(msg.result);
      else call.reject(new AgentError(msg.error));
    };
    ws.onclose = () => {
      for (const call of this.pending.values()) call.reject(new AgentUnavailable("closed"));
      this.pending.clear();
    };
  }

  request(type, fields = {}, timeoutMs = 0) {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (timeoutMs) {
        setTimeout(() => {
          if (this.pending.delete(id)) reject(new AgentUnavailable("timeout"));
        }, timeoutMs);
      }
      this.ws.send(JSON.stringify({ id, type, ...fields }));
    });
  }

  async listTokens() {
    return (await this.request("list_tokens")).tokens;
  }

  async getCertificates(token) {
    return (await this.request("get_certificates", { token })).certificates;
  }

  // data: Uint8Array to be signed (the mechanism hashes it). pin: omit when hello.pin_entry is "agent".
  // Resolves to the signature as a Uint8Array.
  async sign({ token, certificate, mechanism, data, pin }) {
    const fields = { token, certificate, mechanism, data: bytesToBase64(data) };
    if (pin !== undefined) fields.pin = pin;
    return base64ToBytes((await this.request("sign", fields)).signature);
  }

  close() {
    this.ws.close();
  }
}
