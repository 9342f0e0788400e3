// The console's only way to the server: same-origin calls to the documented REST APIs with the
// cookie session (the platform turns it into a bearer token), the CSRF header on every call and
// the user's language. Problems (RFC 9457) come back as ApiError; a 401 ends the console.
import { currentLang } from "./i18n.js";

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code || `http_${status}`;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

/** What the session endpoint said; null when nobody is signed in. */
export async function loadSession() {
  const response = await fetch("/auth/session", {
    credentials: "same-origin",
    headers: { Accept: "application/json", "Accept-Language": currentLang() },
  });
  if (response.status === 401) return null;
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const session = await response.json();
  csrfToken = session.csrf_token;
  return session;
}

/** Called once with what to do when the server says the session is gone. */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export function forgetSession() {
  csrfToken = null;
}

function headers(extra = {}) {
  const h = { Accept: "application/json, application/problem+json", "Accept-Language": currentLang(), ...extra };
  if (csrfToken) h["X-CSRF-Token"] = csrfToken;
  return h;
}

async function problemOf(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      /* an empty or broken body: fall through */
    }
  }
  return { status: response.status, title: response.statusText, code: `http_${response.status}` };
}

async function check(response) {
  if (response.status === 401) {
    const problem = await problemOf(response);
    onSignedOut(problem);
    throw new ApiError(401, problem);
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response;
}

/** A JSON call: `api("GET", "/v1/applications", {query})`, `api("POST", path, {body})`. */
export async function api(method, path, { query, body } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
  }
  const init = { method, credentials: "same-origin", headers: headers() };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await check(await fetch(url, init));
  if (response.status === 204) return null;
  return response.json();
}

/** A file from the API (a PDF) as a Blob. */
export async function apiBlob(path) {
  const response = await check(await fetch(path, { credentials: "same-origin", headers: headers({ Accept: "*/*" }) }));
  return response.blob();
}

/** Uploads `file` as the multipart field `file`, reporting the upload's progress (fetch cannot). */
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress({ sent: e.loaded, total: e.total, done: e.loaded >= e.total });
    });
    xhr.upload.addEventListener("load", () => onProgress({ done: true }));
    xhr.addEventListener("error", () => reject(new ApiError(0, { code: "network_error", title: "Network error" })));
    xhr.addEventListener("load", () => {
      let body = {};
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : {};
      } catch {
        body = { code: `http_${xhr.status}`, title: xhr.statusText };
      }
      if (xhr.status === 401) onSignedOut(body);
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body));
    });
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

/** Ends the session here (the server deletes it first in every case); returns where to go next:
 * the identity provider's sign-out when it has one, else the sign-in start. */
export async function signOut() {
  const fallback = "/auth/login?next=%2Fconsole%2F";
  try {
    const response = await fetch("/auth/logout", { method: "POST", credentials: "same-origin", headers: headers() });
    const body = response.ok ? await response.json() : {};
    return body.redirect_to || fallback;
  } catch {
    return fallback;
  } finally {
    csrfToken = null;
  }
}
