"""The simulated passport as a real smart card: through vpcd into pcscd, then read by PC/SC
programs (pyscard with our reader, and OpenSC's ``opensc-tool``), and vpcd's framing itself."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticators.passport.check import read_passport
from authenticators.passport.errors import PassportError
from authenticators.passport.lds import parse_mrz
from authenticators.passport.transport import PcscTransport
from firmware_sim.passport.chip import ATR, ChipData, PassportChip
from firmware_sim.passport.vpcd import VpcdCard
from tests.firmware_sim.passport.test_icao_vectors import D, h
from tests.support import Emu, assert_user_error

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_PID = Path("/run/pcscd/pcscd.pid")
VPCD_LOCK = Path(tempfile.gettempdir()) / "mitid-emulator-vpcd.lock"
READER = "Virtual PCD 00 00"
WAIT = 20.0  # seconds for pcscd to start or to see a card; never an assertion on time


def test_vpcd_framing() -> None:
    """vpcd's protocol against a stand-in for vpcd on a free loopback port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        chip = PassportChip(
            ChipData(files={0x011E: h("EF_COM")}, mrz_information=D["MRZ_INFORMATION"])
        )
        card = VpcdCard(chip, *listener.getsockname())
        worker = threading.Thread(target=card.serve, args=(card.connect(),))
        worker.start()
        vpcd, _ = listener.accept()
        with vpcd:
            vpcd.settimeout(10)

            def exchange(payload: bytes) -> bytes:
                vpcd.sendall(len(payload).to_bytes(2, "big") + payload)
                size = int.from_bytes(vpcd.recv(2), "big")
                return vpcd.recv(size)

            vpcd.sendall(b"\x00\x01\x01")  # power on: no answer
            assert exchange(b"\x04") == ATR
            assert exchange(bytes.fromhex("00A4040C07A0000002471001")).hex() == "9000"
            assert exchange(bytes.fromhex("00B0000004")).hex() == "6985"
        worker.join(10)
        assert not worker.is_alive()
        assert card.commands == 2


def test_serve_without_vpcd_is_a_clear_error(emu: Emu) -> None:
    assert emu("passport", "new", "--name", "p", "--surname", "A", "--given-names", "B",
               "--birth", "1990-01-01").exit_code == 0  # fmt: skip
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert_user_error(emu("passport", "serve", "p", "--vpcd", f"127.0.0.1:{port}"), "vpcd")
    assert_user_error(emu("passport", "serve", "p", "--vpcd", "nowhere"), "HOST:PORT")


def _readers() -> list[str]:
    from smartcard.Exceptions import SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers

    try:
        return [str(r) for r in readers()]
    except (SmartcardException, BaseSCardException):  # no pcscd (yet), or a stale socket
        return []


def _wait(predicate: object, what: str) -> None:
    import time

    deadline = time.monotonic() + WAIT
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def pcscd() -> Iterator[None]:
    """pcscd with vpcd's reader, started here when it is not running; one test at a time on
    this machine holds the virtual reader (other checkouts may run their tests too)."""
    if shutil.which("pcscd") is None or not VPCD_DRIVER.exists():
        if os.environ.get("CI"):
            pytest.fail("pcscd and vsmartcard-vpcd are missing: run scripts/system-deps.sh")
        pytest.skip("pcscd and vsmartcard-vpcd are not installed (scripts/system-deps.sh)")
    started = None
    if READER not in _readers():
        subprocess.run(["pcscd"], check=True, capture_output=True)  # it daemonizes
        _wait(lambda: READER in _readers(), "pcscd to offer the virtual reader")
        with contextlib.suppress(OSError, ValueError):
            started = int(PCSCD_PID.read_text().strip("\x00\n "))
    try:
        with VPCD_LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
    finally:
        if started is not None:  # the pcscd this test started ends with it
            gc.collect()  # pyscard releases its contexts when collected: while pcscd still runs
            with contextlib.suppress(OSError):
                os.kill(started, signal.SIGTERM)


def _card_present() -> bool:
    with contextlib.suppress(PassportError):
        PcscTransport("pcsc:", READER).close()
        return True
    return False


def test_a_passport_in_pcscd(pcscd: None, emu: Emu) -> None:
    made = emu("passport", "new", "--name", "anne", "--surname", "Hansen", "--given-names",
               "Anne", "--birth", "1990-01-02", "--json")  # fmt: skip
    mrz = "".join(json.loads(made.stdout)["mrz"])
    serving = subprocess.Popen(
        [sys.executable, "-m", "authenticators.cli", "passport", "serve", "anne"],
        env={**os.environ, "MITID_EMU_STATE": str(emu.state_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serving.stdout is not None
        assert "is in the virtual reader" in serving.stdout.readline()
        _wait(_card_present, "pcscd to see the card")
        # Our reader, through pyscard and pcscd: the whole inspection.
        transport = PcscTransport("pcsc:Virtual", "Virtual PCD 00 00")
        try:
            checked = read_passport(
                transport,
                parse_mrz(mrz).information,
                cscas=_cscas(emu),
                now=dt.datetime.now(dt.UTC),
            )
        finally:
            transport.close()
        assert (checked.access, checked.chip_authentication, checked.active_authentication) == (
            "PACE",
            True,
            True,
        )
        # The CLI through the same reader.
        read = emu("passport", "read", "pcsc:Virtual PCD 00 00", "--mrz", mrz, "--json")
        assert read.exit_code == 0, read.output
        assert json.loads(read.stdout)["ok"] is True
        # OpenSC, a PC/SC program nobody here wrote, sends plain APDUs.
        if shutil.which("opensc-tool"):
            done = subprocess.run(
                ["opensc-tool", "-r", READER, "-s", "00A4040C07A0000002471001",
                 "-s", "0084000008", "-s", "00A4020C02011C", "-s", "00B0000000",
                 "-s", "00A4020C020101", "-s", "00B0000004"],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert done.stdout.count("SW1=0x90, SW2=0x00") == 5, done.stdout
            assert "SW1=0x69, SW2=0x82" in done.stdout  # DG1 needs BAC or PACE
            assert "30 12 06 0A 04 00 7F 00 07 02 02 04 02 02" in done.stdout  # PACEInfo
    finally:
        serving.send_signal(signal.SIGINT)
        out, err = serving.communicate(timeout=30)
    assert serving.returncode == 0, err
    assert "taken out after" in out


def _cscas(emu: Emu) -> list[bytes]:
    from authenticators.clock import SystemClock
    from authenticators.passport.sims import SimPassports
    from authenticators.store import Store

    return SimPassports(Store(emu.state_dir), SystemClock()).cscas()
