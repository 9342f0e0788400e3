"""Console sessions, kept server-side in a NATS JetStream key-value bucket.

The browser holds only an opaque random id (the ``esign_session`` cookie). The bucket is keyed by
the id's SHA-256, so reading the bucket does not give a usable cookie; the bearer token is
sealed (XSalsa20-Poly1305) with a key derived from the console secret, and so is the provider's
ID token (kept only as the ``id_token_hint`` of the provider's sign-out).
The CSRF token is derived from the id with the same secret, so it needs no storage and dies with
the session. Every replica sees the same bucket; the bucket's TTL removes sessions
nobody signed out of, and ``expires_at`` is checked on every read as well.

Also kept here: a sign-in in progress (OIDC state, PKCE verifier, nonce, where to go next), for
ten minutes, keyed by the state's hash and bound to the browser that started it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from nacl.secret import SecretBox
from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

SESSIONS_BUCKET = "esign_console_sessions"
SIGN_INS_BUCKET = "esign_console_sign_ins"
SIGN_IN_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class ConsoleSession:
    subject: str
    role: str
    institution_id: str | None
    institution_name: str | None
    name: str | None
    expires_at: datetime
    bearer_token: str = field(repr=False)  # what the proxy puts in front of a staff API call
    id_token: str | None = field(default=None, repr=False)  # the provider's, for its sign-out (OIDC only)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class PendingSignIn:
    browser_binding: str  # hash of the short-lived cookie set when the sign-in started
    code_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    next_path: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class SessionStore:
    def __init__(self, js: JetStreamContext, secret: str, *, session_ttl: timedelta, clock: Callable[[], datetime]):
        self._js = js
        self._secret = secret.encode()
        self._box = SecretBox(hmac.new(self._secret, b"esign console seal", hashlib.sha256).digest())
        self._session_ttl = session_ttl
        self.clock = clock
        self._sessions: KeyValue | None = None
        self._sign_ins: KeyValue | None = None

    @property
    def session_ttl(self) -> timedelta:
        return self._session_ttl

    async def _bucket(self, name: str, ttl: timedelta) -> KeyValue:
        try:
            return await self._js.key_value(name)
        except BucketNotFoundError:
            # Several replicas may create it at once: the same config is accepted by JetStream.
            return await self._js.create_key_value(bucket=name, ttl=ttl.total_seconds(), history=1)

    async def _session_bucket(self) -> KeyValue:
        if self._sessions is None:
            self._sessions = await self._bucket(SESSIONS_BUCKET, self._session_ttl)
        return self._sessions

    async def _sign_in_bucket(self) -> KeyValue:
        if self._sign_ins is None:
            self._sign_ins = await self._bucket(SIGN_INS_BUCKET, SIGN_IN_TTL)
        return self._sign_ins

    def _seal(self, value: str) -> str:
        return base64.b64encode(self._box.encrypt(value.encode())).decode()

    def _open(self, value: str) -> str:
        return self._box.decrypt(base64.b64decode(value)).decode()

    def csrf_token(self, session_id: str) -> str:
        mac = hmac.new(self._secret, b"csrf:" + session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def csrf_valid(self, session_id: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf_token(session_id), presented)

    async def create(self, session: ConsoleSession) -> str:
        """Stores the session; returns the new opaque id for the cookie."""
        session_id = secrets.token_urlsafe(32)
        record = asdict(session)
        record["expires_at"] = session.expires_at.isoformat()
        record["bearer_token"] = self._seal(session.bearer_token)
        record["id_token"] = self._seal(session.id_token) if session.id_token else None
        await (await self._session_bucket()).put(_digest(session_id), json.dumps(record).encode())
        return session_id

    async def get(self, session_id: str) -> ConsoleSession | None:
        """The live session for ``session_id``; None when unknown, ended or expired."""
        try:
            entry = await (await self._session_bucket()).get(_digest(session_id))
        except KeyNotFoundError:  # also a deleted key
            return None
        if not entry.value:
            return None
        record = json.loads(entry.value)
        record["expires_at"] = datetime.fromisoformat(record["expires_at"])
        record["bearer_token"] = self._open(record["bearer_token"])
        record["id_token"] = self._open(record["id_token"]) if record.get("id_token") else None
        session = ConsoleSession(**record)
        return None if session.expired(self.clock()) else session

    async def end(self, session_id: str) -> None:
        await (await self._session_bucket()).purge(_digest(session_id))

    async def start_sign_in(self, state: str, pending: PendingSignIn) -> None:
        await (await self._sign_in_bucket()).put(_digest(state), json.dumps(asdict(pending)).encode())

    async def take_sign_in(self, state: str) -> PendingSignIn | None:
        """The sign-in started with ``state``, once: a replayed callback finds nothing."""
        bucket = await self._sign_in_bucket()
        try:
            entry = await bucket.get(_digest(state))
        except KeyNotFoundError:
            return None
        try:
            # Deleting at the revision read claims it: a second, concurrent callback fails here.
            await bucket.delete(_digest(state), last=entry.revision)
        except KeyWrongLastSequenceError:
            return None
        return PendingSignIn(**json.loads(entry.value)) if entry.value else None


def binding_of(browser_cookie: str) -> str:
    return _digest(browser_cookie)
