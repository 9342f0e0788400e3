"""``esign-agent doctor``: real SoftHSM2 cards, and the advice for what a workstation gets wrong."""

from __future__ import annotations

import socket
import struct
from datetime import UTC, datetime, timedelta

from esign_agent.binarch import module_architectures, python_architecture
from esign_agent.doctor import PROBLEM, CardReport, diagnose_card, run_doctor
from esign_agent.presets import CardType
from esign_agent.tokens import ModuleStatus, PinStatus, TokenInfo

from .fake_card import RetryCounter
from .helpers import ORIGIN, agent_config


def doctor(config, **kwargs) -> tuple[int, str]:
    lines: list[str] = []
    status = run_doctor(config, out=lines.append, **kwargs)
    return status, "\n".join(lines)


async def test_doctor_shows_cards_and_certificates_with_the_tc_kimlik_no_masked(softhsm):
    status, text = doctor(agent_config())
    assert status == 0
    assert f"pages allowed to use the agent: {ORIGIN}" in text
    assert 'card "esign-test" (SoftHSM v2) is present, PIN not blocked' in text
    assert "certificate of Çağrı Işıkoğlu Şenöz (TC Kimlik No 100******46), RSA 2048" in text
    assert "certificate of Gülşen Öztürk (TC Kimlik No 172******60), EC P-256" in text
    assert "10000000146" not in text and "17291716060" not in text
    assert "2 card(s) ready to sign." in text


async def test_doctor_explains_a_locked_pin(softhsm):
    counter = RetryCounter(tries=3)
    counter.left[softhsm.main.id.split(":")[1].encode()] = 0
    status, text = doctor(agent_config(), loader=counter.load)
    assert 'card "esign-test" (SoftHSM v2): the PIN is locked' in text
    assert "security word" in text
    assert "1 card(s) ready to sign." in text and status == 0  # the other card still works


async def test_doctor_warns_before_expiry_and_fails_after_it(softhsm):
    soon = datetime.now(UTC) + timedelta(days=3 * 365 - 20)  # the test certificates live 3 years
    status, text = doctor(agent_config(), now=soon)
    assert "expires soon" in text and "renew now" in text and status == 0
    status, text = doctor(agent_config(), now=soon + timedelta(days=60))
    assert "EXPIRED" in text and status == 1


def test_doctor_explains_a_missing_module_and_a_missing_allow_list(tmp_path):
    missing = str(tmp_path / "libakisp11.so")
    status, text = doctor(agent_config(card_types=("akis",), modules={"akis": missing}, allow_origins=()))
    assert status == 1
    assert f"[!!] the AKİS (TÜBİTAK) PKCS#11 module was not found; looked in: {missing}" in text
    assert '[modules] akis = "/path/to/module"' in text
    assert "no web page is allowed to use the agent" in text
    assert "No card is ready to sign" in text


def _elf_header(machine: int) -> bytes:
    """The first bytes of a 64-bit little-endian ELF shared object for ``machine``."""
    return b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HH", 3, machine) + b"\0" * 44


def test_module_architecture_is_read_from_the_file(softhsm, tmp_path):
    assert module_architectures(softhsm.module) == {python_architecture()}
    pe = bytearray(0x200)
    pe[:2], pe[0x3C:0x40] = b"MZ", struct.pack("<I", 0x80)
    pe[0x80:0x86] = b"PE\0\0" + struct.pack("<H", 0x14C)
    (tmp_path / "akisp11.dll").write_bytes(bytes(pe))
    assert module_architectures(str(tmp_path / "akisp11.dll")) == {"x86"}


def test_doctor_explains_a_driver_built_for_another_architecture(tmp_path):
    other, machine = ("arm64", 183) if python_architecture() != "arm64" else ("x86_64", 62)
    module = tmp_path / "libakisp11.so"
    module.write_bytes(_elf_header(machine))
    status, text = doctor(agent_config(card_types=("akis",), modules={"akis": str(module)}))
    assert status == 1
    assert f"is built for {other}, but the agent runs on {python_architecture()}" in text
    assert f"install the {python_architecture()} build of the driver" in text


def test_doctor_explains_a_module_that_will_not_load(tmp_path):
    machine = {"x86_64": 62, "arm64": 183}.get(python_architecture(), 62)
    module = tmp_path / "libakisp11.so"
    module.write_bytes(_elf_header(machine))  # right architecture, but not a library
    status, text = doctor(agent_config(card_types=("akis",), modules={"akis": str(module)}))
    assert status == 1
    assert f"{module} could not be loaded" in text


def test_doctor_warns_when_the_port_is_taken(softhsm):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _, text = doctor(agent_config(port=port))
    assert f"port {port} on 127.0.0.1 is in use" in text


LOADED = ModuleStatus(CardType("akis", "AKİS (TÜBİTAK)", ("/usr/lib/libakisp11.so",)), "/usr/lib/libakisp11.so")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_no_reader_and_no_card_get_their_own_advice():
    """Readers and empty slots cannot be unplugged from SoftHSM2: the advice is checked on data."""
    no_reader = diagnose_card(CardReport(LOADED, slots=0), NOW, "x86_64")
    assert (no_reader[-1].level, no_reader[-1].text) == (PROBLEM, "no card reader found")
    assert "plug in the card reader" in no_reader[-1].fix
    blank = TokenInfo("akis:-", "akis", 0, "", "", "", "", PinStatus(False, False, False), initialized=False)
    no_card = diagnose_card(CardReport(LOADED, slots=1, tokens=[blank]), NOW, "x86_64")
    assert no_card[-1].text == "a card reader is connected but there is no card in it"
    assert no_card[-1].fix == "insert the card"
