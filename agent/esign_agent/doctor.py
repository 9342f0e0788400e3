"""``esign-agent doctor``: what works, what does not, and what to do about it, in plain words.

Findings are built from data (config, the TokenStore's survey) by pure functions, so every
piece of advice can be tested without the broken machine it is meant for.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pkcs11

from .binarch import module_architectures, python_architecture
from .certificates import CertificateInfo, mask_tckn
from .config import Config
from .pin_prompt import dialog_available
from .presets import card_types, current_os
from .tokens import CardReport, TokenInfo, TokenStore

# Kamu SM warns 40 days before expiry; renewal is only possible while the old one is valid.
RENEWAL_WINDOW = timedelta(days=40)

OK, WARNING, PROBLEM = "ok", "warning", "problem"


@dataclass(frozen=True)
class Finding:
    level: str
    text: str
    fix: str | None = None


def diagnose_config(config: Config, port_free: bool) -> list[Finding]:
    findings = [
        Finding(OK, f"configuration file: {config.config_file}")
        if config.config_file
        else Finding(OK, "no configuration file; using defaults, environment and command line")
    ]
    if config.allow_origins:
        findings.append(Finding(OK, f"pages allowed to use the agent: {', '.join(config.allow_origins)}"))
    else:
        findings.append(
            Finding(
                PROBLEM,
                "no web page is allowed to use the agent, so every page will be refused",
                "add the e-signature site: esign-agent run --allow-origin https://<site>, "
                'or allow_origins = ["https://<site>"] in the configuration file',
            )
        )
    if port_free:
        findings.append(Finding(OK, f"port {config.port} on 127.0.0.1 is free"))
    else:
        findings.append(
            Finding(
                WARNING,
                f"port {config.port} on 127.0.0.1 is in use",
                "if esign-agent is already running, that is expected; otherwise another program"
                " holds the port: choose another one with --port (and tell the page)",
            )
        )
    if config.pin_entry == "agent" and not dialog_available():
        findings.append(
            Finding(
                PROBLEM,
                'pin_entry = "agent" needs Tk for the PIN window, and this Python has no tkinter',
                'install it (Debian/Ubuntu: sudo apt install python3-tk) or use pin_entry = "page"',
            )
        )
    return findings


def _module_findings(report: CardReport, python_arch: str) -> list[Finding]:
    status = report.status
    card = status.card_type
    if status.path is None:
        return [
            Finding(
                PROBLEM,
                f"the {card.label} PKCS#11 module was not found; looked in: {', '.join(card.candidates)}",
                f"install the card's driver, or give its path in the configuration file:"
                f' [modules] {card.id} = "/path/to/module"',
            )
        ]
    archs = _architectures(status.path)
    if archs and python_arch not in archs:
        return [
            Finding(
                PROBLEM,
                f"{status.path} is built for {'/'.join(sorted(archs))}, but the agent runs on"
                f" {python_arch}: a program cannot load a driver built for another architecture",
                f"install the {python_arch} build of the driver (e.g. the 64-bit AKİS driver on"
                " 64-bit Windows), or run the agent with a matching Python",
            )
        ]
    if status.error is not None:
        return [Finding(PROBLEM, f"{status.path} could not be loaded: {status.error}", _load_fix())]
    return [Finding(OK, f"module {status.path} loaded")]


def _architectures(path: str) -> set[str]:
    try:
        return module_architectures(path)
    except OSError:
        return set()


def _load_fix() -> str:
    if current_os() == "linux":
        return (
            "reinstall the driver; `ldd <module>` shows missing libraries (card drivers usually"
            " need PC/SC: sudo apt install pcscd libpcsclite1)"
        )
    return "reinstall the card driver; if it persists, restart the computer after installing"


def _token_findings(token: TokenInfo, certs: list[CertificateInfo], now: datetime) -> list[Finding]:
    name = f'card "{token.label}" ({token.model})'
    findings = []
    if token.pin.locked:
        findings.append(
            Finding(
                PROBLEM,
                f"{name}: the PIN is locked after too many wrong PINs; the agent will not try PINs on it",
                "unblock it with your security word (güvenlik sözcüğü) through Kamu SM's PIN service or call centre",
            )
        )
    elif token.pin.final_try:
        findings.append(Finding(WARNING, f"{name}: one PIN attempt left; a wrong PIN locks the card"))
    elif token.pin.count_low:
        findings.append(Finding(WARNING, f"{name}: wrong PINs were entered; fewer attempts are left"))
    else:
        findings.append(Finding(OK, f"{name} is present, PIN not blocked"))
    if not certs:
        findings.append(Finding(PROBLEM, f"{name} holds no certificate", "check that this is your e-signature card"))
    for cert in certs:
        findings.append(_certificate_finding(cert, now))
    return findings


def _certificate_finding(cert: CertificateInfo, now: datetime) -> Finding:
    key = f"{cert.key_type} {cert.curve or cert.key_size}"
    text = (
        f"certificate of {cert.holder_name or '?'} (TC Kimlik No {mask_tckn(cert.tc_kimlik_no)}),"
        f" {key}, issued by {cert.issuer_name or cert.issuer},"
        f" valid until {cert.not_after:%Y-%m-%d}"
    )
    if cert.not_after <= now:
        return Finding(
            PROBLEM,
            f"{text}: EXPIRED",
            "an expired certificate cannot be renewed: apply for a new one",
        )
    if cert.not_after - now <= RENEWAL_WINDOW:
        return Finding(WARNING, f"{text}: expires soon", "renew now (e-approval with this card)")
    if cert.not_before > now:
        return Finding(WARNING, f"{text}: not valid yet", "check the computer's date and time")
    return Finding(OK, text)


def diagnose_card(report: CardReport, now: datetime, python_arch: str) -> list[Finding]:
    findings = _module_findings(report, python_arch)
    if not report.status.loaded:
        return findings
    if report.error is not None:
        return [*findings, Finding(PROBLEM, f"the driver failed: {report.error}", _load_fix())]
    if report.slots == 0:
        return [
            *findings,
            Finding(
                PROBLEM,
                "no card reader found",
                "plug in the card reader"
                + (
                    " and start PC/SC: sudo apt install pcscd && sudo systemctl enable --now pcscd"
                    if current_os() == "linux"
                    else " and install its driver"
                ),
            ),
        ]
    cards = [t for t in report.tokens if t.initialized]
    if not cards:
        return [
            *findings,
            Finding(PROBLEM, "a card reader is connected but there is no card in it", "insert the card"),
        ]
    for token in cards:
        findings += _token_findings(token, report.certificates.get(token.id, []), now)
    return findings


def ready_cards(report: CardReport, now: datetime) -> int:
    """Cards that can sign now: present, PIN not locked, holding a currently valid certificate."""
    return sum(
        1
        for t in report.tokens
        if t.initialized
        and not t.pin.locked
        and any(c.not_before <= now < c.not_after for c in report.certificates.get(t.id, []))
    )


def _port_free(port: int) -> bool:
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name != "nt":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_MARKS = {OK: "[ok]", WARNING: "[??]", PROBLEM: "[!!]"}


def run_doctor(
    config: Config,
    out: Callable[[str], Any] = print,
    loader: Callable[[str], Any] = pkcs11.lib,
    now: datetime | None = None,
) -> int:
    """Print the findings; exit status 0 when at least one card is ready to sign."""
    now = now or datetime.now(UTC)

    def show(findings: list[Finding]) -> None:
        for f in findings:
            out(f"  {_MARKS[f.level]} {f.text}")
            if f.fix:
                out(f"       fix: {f.fix}")

    out("Agent")
    show(diagnose_config(config, _port_free(config.port)))
    # One thread does every PKCS#11 call here too: this one.
    store = TokenStore(card_types(config.card_types, config.modules), loader)
    store.load()
    try:
        reports = store.survey()
    finally:
        store.close()
    ready = 0
    for report in reports:
        card = report.status.card_type
        out(f"Card type {card.id} ({card.label})")
        show(diagnose_card(report, now, python_architecture()))
        ready += ready_cards(report, now)
    out(f"{ready} card(s) ready to sign." if ready else "No card is ready to sign; see the fixes above.")
    return 0 if ready else 1
