"""Cards seen through PKCS#11: listing, reading certificates, signing.

Everything here makes PKCS#11 calls and must run on one thread (see pkcs11_worker.py), which is
also what makes the session bookkeeping below safe: between two operations the agent holds no
session at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from pkcs11 import Attribute, ObjectClass, TokenFlag
from pkcs11.exceptions import PKCS11Error

from . import mechanisms
from .certificates import CertificateInfo
from .presets import CardType
from .protocol import AgentError, ErrorCode, Sign

log = logging.getLogger("esign_agent")

# No card PIN is longer; refusing longer ones here costs the card no attempt.
MAX_PIN_LENGTH = 64

# Reading a slot's token info fails with these when there is no usable card in it. SoftHSM2
# answers CKR_GENERAL_ERROR for a token whose files went away.
_NO_CARD = (
    pkcs11.TokenNotPresent,
    pkcs11.TokenNotRecognised,
    pkcs11.DeviceRemoved,
    pkcs11.DeviceError,
    pkcs11.GeneralError,
    pkcs11.SlotIDInvalid,
)
_MECHANISM_ERRORS = (
    pkcs11.MechanismInvalid,
    pkcs11.MechanismParamInvalid,
    pkcs11.KeyTypeInconsistent,
    pkcs11.FunctionNotSupported,
)


@dataclass(frozen=True)
class PinStatus:
    count_low: bool
    final_try: bool
    locked: bool

    @classmethod
    def from_flags(cls, flags: int) -> PinStatus:
        return cls(
            count_low=bool(flags & TokenFlag.USER_PIN_COUNT_LOW),
            final_try=bool(flags & TokenFlag.USER_PIN_FINAL_TRY),
            locked=bool(flags & TokenFlag.USER_PIN_LOCKED),
        )

    def to_json(self) -> dict[str, bool]:
        return {"count_low": self.count_low, "final_try": self.final_try, "locked": self.locked}


@dataclass(frozen=True)
class TokenInfo:
    id: str  # "<card type>:<serial>": stable while the card is in, and across re-insertion
    card_type: str
    slot_id: int
    label: str
    serial: str
    model: str
    manufacturer: str
    pin: PinStatus
    initialized: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "card_type": self.card_type,
            "label": self.label,
            "serial": self.serial,
            "model": self.model,
            "manufacturer": self.manufacturer,
            "pin": self.pin.to_json(),
        }


@dataclass(frozen=True)
class ModuleStatus:
    card_type: CardType
    path: str | None  # None: no candidate path exists
    error: str | None = None  # why loading failed; None when loaded

    @property
    def loaded(self) -> bool:
        return self.path is not None and self.error is None


@dataclass(frozen=True)
class _StoredCert:
    info: CertificateInfo
    cka_id: bytes


@dataclass
class _Module:
    card: CardType
    lib: Any  # pkcs11.lib, or a test double with the same surface
    mechanisms: dict[int, frozenset[pkcs11.Mechanism]] = field(default_factory=dict)

    def slot_mechanisms(self, slot: Any) -> frozenset[pkcs11.Mechanism]:
        if slot.slot_id not in self.mechanisms:
            self.mechanisms[slot.slot_id] = frozenset(slot.get_mechanisms())
        return self.mechanisms[slot.slot_id]

    def reset(self) -> None:
        """C_Finalize + C_Initialize: closes every session this process has on the module.

        python-pkcs11's ``Token.open(user_pin=...)`` opens a session, then logs in; when the
        login fails it raises without closing the session and without giving us its handle, and
        it does not expose C_CloseAllSessions. Re-initialising is the one portable way left to
        release that session. It is cheap for us because no other session is open between
        operations, and it only happens after a failed login.
        """
        self.mechanisms.clear()
        try:
            self.lib.reinitialize()
        except PKCS11Error:
            log.warning("card type %s: re-initialising the module failed", self.card.id)


@dataclass(frozen=True)
class Prepared:
    """What an operation found before touching the PIN."""

    token: TokenInfo
    certificate: CertificateInfo
    plan: mechanisms.SignPlan


@dataclass
class CardReport:
    """One module as doctor sees it."""

    status: ModuleStatus
    slots: int = 0
    tokens: list[TokenInfo] = field(default_factory=list)
    certificates: dict[str, list[CertificateInfo]] = field(default_factory=dict)
    error: str | None = None


class TokenStore:
    """The cards of every configured module. Not thread-safe by design: one thread only."""

    def __init__(self, card_types: Sequence[CardType], loader: Callable[[str], Any] = pkcs11.lib) -> None:
        self._card_types = list(card_types)
        self._loader = loader
        self._modules: dict[str, _Module] = {}
        self.statuses: list[ModuleStatus] = []
        self._certs: dict[str, dict[str, _StoredCert]] = {}  # token id -> fingerprint -> cert
        self._slots: dict[str, Any] = {}  # token id -> slot it was last found in

    # -- modules ---------------------------------------------------------------------------

    def load(self) -> list[ModuleStatus]:
        self.statuses = []
        for card in self._card_types:
            path = card.module_path()
            if path is None:
                status = ModuleStatus(card, None)
            else:
                try:
                    lib = self._loader(path)
                except (PKCS11Error, OSError) as exc:
                    status = ModuleStatus(card, path, str(exc) or type(exc).__name__)
                else:
                    self._modules[card.id] = _Module(card, lib)
                    status = ModuleStatus(card, path)
            self.statuses.append(status)
            if not status.loaded:
                log.warning("card type %s: module not loaded (run `esign-agent doctor`)", card.id)
        return self.statuses

    def close(self) -> None:
        for module in self._modules.values():
            try:
                module.lib.finalize()
            except PKCS11Error:
                pass  # shutting down anyway
        self._modules.clear()

    # -- tokens ----------------------------------------------------------------------------

    def _read_slot(self, module: _Module, slot: Any) -> tuple[Any, TokenInfo] | None:
        """The token in ``slot`` (C_GetTokenInfo), or None when there is no usable card."""
        try:
            token = slot.get_token()
        except _NO_CARD:
            return None
        serial = token.serial.decode("ascii", "replace").strip()
        return token, TokenInfo(
            id=f"{module.card.id}:{serial or f'slot-{slot.slot_id}'}",
            card_type=module.card.id,
            slot_id=slot.slot_id,
            label=token.label.strip(),
            serial=serial,
            model=token.model.strip(),
            manufacturer=token.manufacturer_id.strip(),
            pin=PinStatus.from_flags(token.flags),
            initialized=bool(token.flags & TokenFlag.TOKEN_INITIALIZED),
        )

    def _scan(self, module: _Module) -> Iterator[tuple[Any, Any, TokenInfo]]:
        if not module.lib.initialized:  # a failed reset leaves the module finalised
            module.lib.initialize()
        for slot in module.lib.get_slots(token_present=True):
            if (found := self._read_slot(module, slot)) is not None:
                yield slot, *found

    def tokens(self) -> list[TokenInfo]:
        """Initialised tokens present now, in every loaded module."""
        found = []
        for module in self._modules.values():
            try:
                found += [info for _, _, info in self._scan(module) if info.initialized]
            except PKCS11Error as exc:
                log.warning("card type %s: listing slots failed (%s)", module.card.id, _name(exc))
        present = {t.id for t in found}
        for gone in set(self._certs) - present:
            del self._certs[gone]
        return found

    def _find(self, token_id: str) -> tuple[_Module, Any, Any, TokenInfo] | None:
        module = self._modules.get(token_id.partition(":")[0])
        if module is None:
            return None
        # Every operation starts here, so first ask the slot the card was in last time: one
        # C_GetTokenInfo instead of listing every slot. Its answer is as fresh as a scan's.
        last = self._slots.get(token_id)
        try:
            if last is not None and module.lib.initialized:
                found = self._read_slot(module, last)
                if found is not None and found[1].id == token_id and found[1].initialized:
                    return module, last, *found
            for slot, token, info in self._scan(module):
                if info.id == token_id and info.initialized:
                    self._slots[token_id] = slot
                    return module, slot, token, info
        except PKCS11Error as exc:  # the module cannot list its slots: no card to be had
            log.warning("card type %s: listing slots failed (%s)", module.card.id, _name(exc))
        self._slots.pop(token_id, None)
        self._certs.pop(token_id, None)
        return None

    def _require(self, token_id: str, seen: bool) -> tuple[_Module, Any, Any, TokenInfo]:
        found = self._find(token_id)
        if found is None:
            raise AgentError(ErrorCode.TOKEN_REMOVED if seen else ErrorCode.TOKEN_NOT_PRESENT)
        return found

    # -- sessions --------------------------------------------------------------------------

    @contextmanager
    def _session(self, module: _Module, token: Any, pin: str | None = None) -> Iterator[Any]:
        try:
            session = token.open(user_pin=pin)
        except PKCS11Error:
            if pin is not None:
                module.reset()  # the failed login left a session open: see _Module.reset
            raise
        try:
            yield session
        finally:
            try:
                session.close()  # C_Logout + C_CloseSession
            except PKCS11Error:
                module.reset()  # e.g. the card went away mid-operation

    # -- certificates ----------------------------------------------------------------------

    def _read_certificates(self, module: _Module, token: Any, info: TokenInfo) -> dict[str, _StoredCert]:
        certs: dict[str, _StoredCert] = {}
        try:
            with self._session(module, token) as session:
                template = {Attribute.CLASS: ObjectClass.CERTIFICATE}
                for obj in session.get_objects(template):
                    try:
                        der, cka_id = obj[Attribute.VALUE], obj[Attribute.ID]
                        cert = CertificateInfo.from_der(der)
                    except (PKCS11Error, ValueError):
                        continue  # not an X.509 certificate we can read: not offered to pages
                    certs[cert.fingerprint] = _StoredCert(cert, cka_id)
        except PKCS11Error as exc:
            raise self._operation_error(exc, info.id) from None
        self._certs[info.id] = certs
        return certs

    def certificates(self, token_id: str) -> list[tuple[CertificateInfo, list[str]]]:
        """Certificates on the card, each with the protocol mechanisms usable with its key."""
        module, slot, token, info = self._require(token_id, seen=False)
        available = module.slot_mechanisms(slot)
        certs = self._read_certificates(module, token, info)
        return [(c.info, mechanisms.usable(c.info, available)) for c in certs.values()]

    def _stored_cert(self, module: _Module, token: Any, info: TokenInfo, fingerprint: str) -> _StoredCert:
        cached = self._certs.get(info.id)
        if cached is None or fingerprint not in cached:
            cached = self._read_certificates(module, token, info)
        if fingerprint not in cached:
            raise AgentError(ErrorCode.CERT_NOT_FOUND)
        return cached[fingerprint]

    # -- signing ---------------------------------------------------------------------------

    def _prepare(self, request: Sign, seen: bool) -> tuple[_Module, Any, Prepared, bytes]:
        module, slot, token, info = self._require(request.token, seen)
        if info.pin.locked:
            raise AgentError(ErrorCode.PIN_LOCKED, pin=info.pin.to_json())
        stored = self._stored_cert(module, token, info, request.certificate)
        plan = mechanisms.plan(request.mechanism, stored.info, module.slot_mechanisms(slot))
        return module, token, Prepared(info, stored.info, plan), stored.cka_id

    def prepare(self, request: Sign, *, seen: bool = False) -> Prepared:
        """Every check a sign makes before it uses the PIN (so a doomed request costs none)."""
        return self._prepare(request, seen)[2]

    def sign(self, request: Sign, pin: str, *, seen: bool = False) -> bytes:
        """Sign ``request.data`` with ``pin`` (the request's own, or the one the holder typed in
        the agent's window); ``seen``: the token was present when the operation began."""
        module, token, prepared, cka_id = self._prepare(request, seen)
        if not 0 < len(pin) <= MAX_PIN_LENGTH:
            raise AgentError(ErrorCode.PIN_LEN_RANGE)
        if prepared.token.pin.final_try:
            log.warning("cert=%s: the card's PIN is on its final try", request.certificate)
        plan = prepared.plan
        key_template = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: cka_id}
        try:
            with self._session(module, token, pin) as session:
                keys = list(session.get_objects(key_template))
                if not keys:
                    raise AgentError(ErrorCode.KEY_NOT_FOUND)
                raw = keys[0].sign(plan.payload(request.data), mechanism=plan.mechanism, mechanism_param=plan.param)
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid):
            pin_status = self._pin_after_failure(request.token)
            raise AgentError(ErrorCode.PIN_INCORRECT, pin=pin_status) from None
        except pkcs11.PinLocked:
            pin_status = self._pin_after_failure(request.token)
            raise AgentError(ErrorCode.PIN_LOCKED, pin=pin_status) from None
        except pkcs11.PinLenRange:
            raise AgentError(ErrorCode.PIN_LEN_RANGE) from None
        except PKCS11Error as exc:
            raise self._operation_error(exc, request.token) from None
        return plan.finish(raw)

    def _pin_after_failure(self, token_id: str) -> dict[str, bool]:
        found = self._find(token_id)
        if found is None:
            raise AgentError(ErrorCode.TOKEN_REMOVED)
        return found[3].pin.to_json()

    def _operation_error(self, exc: PKCS11Error, token_id: str) -> AgentError:
        if self._find(token_id) is None:
            return AgentError(ErrorCode.TOKEN_REMOVED)
        if isinstance(exc, _MECHANISM_ERRORS):
            return AgentError(ErrorCode.MECHANISM_NOT_SUPPORTED)
        log.warning("driver error %s", _name(exc))
        return AgentError(ErrorCode.DRIVER_ERROR, f"The card driver reported an error ({_name(exc)}).")

    # -- doctor ----------------------------------------------------------------------------

    def survey(self) -> list[CardReport]:
        """Everything doctor shows, per configured card type, including what is wrong."""
        reports = []
        for status in self.statuses:
            report = CardReport(status)
            reports.append(report)
            module = self._modules.get(status.card_type.id)
            if module is None:
                continue
            try:
                report.slots = len(module.lib.get_slots())
                for _, token, info in self._scan(module):
                    report.tokens.append(info)
                    if info.initialized:
                        certs = self._read_certificates(module, token, info)
                        report.certificates[info.id] = [c.info for c in certs.values()]
            except (PKCS11Error, AgentError) as exc:
                report.error = exc.message if isinstance(exc, AgentError) else _name(exc)
        return reports


def _name(exc: BaseException) -> str:
    """A PKCS#11 error's class name: says what went wrong without paths or data."""
    return type(exc).__name__
