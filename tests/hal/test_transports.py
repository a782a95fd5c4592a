"""Every transport yields a python-fido2 CtapHidDevice over our connection; failures are
HalErrors with a code and a message naming the device."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from fido2.ctap2.base import Ctap2

from authenticators.hal import HalError, HalErrorCode, list_devices, open_device, uhid
from authenticators.hal import hidapi as hal_hidapi
from authenticators.store import Store
from firmware_sim.chip import ChipDevice
from tests.hal.fakehid import FakeHidApi
from tests.hal.fixtures import HID_PATH, free_udp_port


def _works(uri: str, **kwargs: object) -> Ctap2:
    with open_device(uri, **kwargs) as device:  # type: ignore[arg-type]
        assert device.ctap.ping(b"hello") == b"hello"
        ctap = Ctap2(device.ctap)
        assert "FIDO_2_1" in ctap.info.versions
        return ctap


def test_sim_state_persists_across_opens(store: Store) -> None:
    with open_device("sim:", store=store) as device:
        first = Ctap2(device.ctap).get_info()
        assert device.simulated
        assert device.transport == "sim"
        assert device.serial == "sim-default"
    with open_device("sim:", store=store) as device:
        from fido2.ctap2.pin import ClientPin

        ClientPin(Ctap2(device.ctap)).set_pin("4711")
    with open_device("sim:", store=store) as device:
        assert Ctap2(device.ctap).get_info().options["clientPin"] is True
    with open_device("sim:other", store=store) as device:
        assert Ctap2(device.ctap).get_info().options["clientPin"] is False
    assert first.options["clientPin"] is False


def test_sim_power_cycle_keeps_a_working_channel(store: Store) -> None:
    with open_device("sim:", store=store) as device:
        device.power_cycle()
        assert device.ctap.ping(b"x") == b"x"


def test_udp(udp_uri: str) -> None:
    _works(udp_uri)


def test_udp_reboot_packet_power_cycles(udp_uri: str) -> None:
    with open_device(udp_uri) as device:
        device.power_cycle()
        assert device.ctap.ping(b"after reboot") == b"after reboot"


def test_udp_without_a_simulator_is_not_found() -> None:
    uri = f"udp://127.0.0.1:{free_udp_port()}?reply={free_udp_port()}"
    with pytest.raises(HalError) as exc:
        open_device(uri)
    assert exc.value.code is HalErrorCode.NOT_FOUND
    assert uri in exc.value.message
    assert "chip serve" in exc.value.message


def test_udp_reply_port_taken_cannot_open(udp_uri: str) -> None:
    with open_device(udp_uri), pytest.raises(HalError) as exc:
        open_device(udp_uri)
    assert exc.value.code is HalErrorCode.CANNOT_OPEN
    assert "reply" in exc.value.message


def test_hid_by_path_and_auto(fake_hid: FakeHidApi) -> None:
    _works(f"hid:{HID_PATH}", hid_backend=fake_hid)
    with open_device("hid:auto", hid_backend=fake_hid) as device:
        assert (device.product, device.serial) == ("Fake FIDO Key", "FAKE0001")
        assert device.transport == "hid"
        assert not device.simulated
    writes = fake_hid.entries[HID_PATH.encode()].writes
    assert writes
    assert all(len(w) == 65 and w[0] == 0 for w in writes)


def test_hid_auto_picks_a_fido_device_not_a_keyboard(chip: ChipDevice) -> None:
    api = FakeHidApi()
    api.plug("/dev/hidraw0", None, usage_page=0x0001, usage=6, product="Keyboard")
    api.plug("/dev/hidraw5", chip)
    with open_device("hid:auto", hid_backend=api) as device:
        assert device.uri == "hid:auto"
        assert device.ctap.descriptor.path == "/dev/hidraw5"


def test_hid_none_plugged_in() -> None:
    with pytest.raises(HalError) as exc:
        open_device("hid:auto", hid_backend=FakeHidApi())
    assert exc.value.code is HalErrorCode.NOT_FOUND
    assert "plug one in" in exc.value.message


def test_hid_not_a_fido_device() -> None:
    api = FakeHidApi()
    api.plug("/dev/hidraw0", None, usage_page=0x0001, usage=6, product="Keyboard")
    with pytest.raises(HalError) as exc:
        open_device("hid:/dev/hidraw0", hid_backend=api)
    assert exc.value.code is HalErrorCode.NOT_FIDO
    assert "Keyboard" in exc.value.message
    assert "hid:/dev/hidraw0" in exc.value.message


def test_hid_unknown_path(fake_hid: FakeHidApi) -> None:
    with pytest.raises(HalError) as exc:
        open_device("hid:/dev/hidraw99", hid_backend=fake_hid)
    assert exc.value.code is HalErrorCode.NOT_FOUND


def test_hid_cannot_open(fake_hid: FakeHidApi, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, path: bytes) -> None:
        raise OSError("open failed")

    monkeypatch.setattr("tests.hal.fakehid.FakeHandle.open_path", refuse)
    with pytest.raises(HalError) as exc:
        open_device(f"hid:{HID_PATH}", hid_backend=fake_hid)
    assert exc.value.code is HalErrorCode.CANNOT_OPEN
    assert "udev" in exc.value.message


def test_hid_garbage_answers() -> None:
    api = FakeHidApi()
    api.plug("/dev/hidraw3", None, garbage=True)
    with pytest.raises(HalError) as exc:
        open_device("hid:/dev/hidraw3", hid_backend=api)
    assert exc.value.code is HalErrorCode.GARBAGE
    assert "hid:/dev/hidraw3" in exc.value.message


def test_hid_silent_device_is_not_fido(chip: ChipDevice) -> None:
    api = FakeHidApi()
    api.plug("/dev/hidraw4", None)  # enumerates as FIDO, never answers
    with pytest.raises(HalError) as exc:
        open_device("hid:/dev/hidraw4", hid_backend=api, timeout=0.3)
    assert exc.value.code is HalErrorCode.NOT_FIDO


def test_unplugged_mid_session(fake_hid: FakeHidApi) -> None:
    with open_device(f"hid:{HID_PATH}", hid_backend=fake_hid) as device:
        fake_hid.unplug(HID_PATH)
        with pytest.raises(HalError) as exc:
            device.ctap.ping(b"anyone?")
    assert exc.value.code is HalErrorCode.UNPLUGGED
    assert HID_PATH in exc.value.message
    assert "plug it back in" in exc.value.message


def test_real_tokens_cannot_be_power_cycled(fake_hid: FakeHidApi) -> None:
    with open_device("hid:auto", hid_backend=fake_hid) as device:
        assert not device.can_power_cycle
        with pytest.raises(HalError, match="by hand"):
            device.power_cycle()


def test_the_linux_backend_is_hidraw() -> None:
    import sys

    module = hal_hidapi.backend()
    expected = "hidraw" if sys.platform.startswith("linux") else "hid"
    assert module.__name__ == expected


def test_list_devices(store: Store, fake_hid: FakeHidApi, udp_uri: str) -> None:
    match = re.fullmatch(r"udp://127\.0\.0\.1:(\d+)\?reply=(\d+)", udp_uri)
    assert match is not None
    port, reply = int(match.group(1)), int(match.group(2))
    with open_device("sim:bench", store=store):
        pass
    found, notes = list_devices(
        store, udp_ports=(port, free_udp_port()), reply_port=reply, hid_backend=fake_hid
    )
    uris = [d.uri for d in found]
    assert uris == [f"hid:{HID_PATH}", "sim:bench", udp_uri]
    assert len(notes) == 1
    assert "no simulator answers there" in notes[0]


def test_uhid_bridge_or_a_clear_skip(chip: ChipDevice) -> None:
    reason = uhid.unavailable()
    if reason is not None:
        pytest.skip(f"uhid not usable here: {reason}")
    bridge = uhid.UhidBridge(chip.connect(), uniq=f"mitid-emu-test-{os.getpid()}")
    bridge.start()
    try:
        done = threading.Event()
        path = None
        for _ in range(50):
            path = bridge.hidraw_path()
            if path:
                break
            done.wait(0.1)
        assert path is not None, "the kernel made no hidraw node"
        assert Path(path).exists()
    finally:
        bridge.stop()


def test_uhid_reports_why_not(tmp_path: Path) -> None:
    reason = uhid.unavailable(str(tmp_path / "uhid"))
    assert reason is not None
    assert "does not exist" in reason
