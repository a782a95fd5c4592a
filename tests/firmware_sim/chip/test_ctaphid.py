"""CTAPHID framing, channels and error rules (CTAP 2.1 §11.2), report by report."""

from __future__ import annotations

import itertools
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from fido2.ctap import STATUS, CtapError
from fido2.ctap2 import Ctap2
from fido2.hid import CTAPHID

from authenticators.clock import FrozenClock, SystemClock
from firmware_sim.chip import ChipDevice
from firmware_sim.chip.ctaphid import CMD_EMU_POWER_CYCLE, MAX_FRAMED_SIZE, frame

from .conftest import CDH, RP, RawHost, descriptor_of, make_credential, open_sim

ERR = CtapError.ERR
BROADCAST = 0xFFFFFFFF


def test_init_allocates_distinct_channels_and_reports_capabilities(raw: RawHost) -> None:
    raw.send(BROADCAST, 0x06, b"12345678")
    cid, cmd, payload = raw.recv()
    assert (cid, cmd) == (BROADCAST, 0x06)
    assert payload[:8] == b"12345678"
    new, version, major, minor, build, caps = struct.unpack_from(">IBBBBB", payload, 8)
    assert new not in (0, BROADCAST)
    assert version == 2
    assert (major, minor, build) == (1, 0, 0)
    assert caps & 0x04  # CBOR
    assert caps & 0x01  # WINK
    assert not caps & 0x08  # MSG is supported, so NMSG is clear
    assert raw.init() != new


def test_init_on_an_allocated_channel_keeps_it(raw: RawHost) -> None:
    cid = raw.init()
    assert raw.init(cid) == cid


def test_ping_echoes_a_multi_packet_message(raw: RawHost) -> None:
    cid = raw.init()
    data = bytes(range(256)) * 3
    raw.send(cid, 0x01, data)
    assert raw.recv() == (cid, 0x01, data)


def test_wink_answers_empty_and_counts(raw: RawHost, device: ChipDevice) -> None:
    cid = raw.init()
    raw.send(cid, 0x08)
    assert raw.recv() == (cid, 0x08, b"")
    assert device.transport.winks == 1
    raw.send(cid, 0x08, b"x")
    assert raw.error() == (cid, ERR.INVALID_LENGTH)


@pytest.mark.parametrize("cmd", [0x02, 0x05, 0x3B, 0x3F, 0x40, 0x7F])
def test_unknown_commands_are_invalid(raw: RawHost, cmd: int) -> None:
    cid = raw.init()
    raw.send(cid, cmd, b"abc")
    assert raw.error() == (cid, ERR.INVALID_COMMAND)


@pytest.fixture
def strict(clock: FrozenClock) -> Iterator[tuple[ChipDevice, RawHost]]:
    """A chip with spec-strict channels (``--strict-channels``, ``?channels=strict``)."""
    chip = ChipDevice(clock=clock, strict_channels=True)
    connection = chip.connect()
    yield chip, RawHost(connection)
    connection.close()
    chip.close()


def test_channel_zero_unallocated_and_broadcast_are_invalid(
    strict: tuple[ChipDevice, RawHost],
) -> None:
    """CTAP 2.1 §11.2.4 and §11.2.9.1.3: with strict channels only INIT on the broadcast
    channel allocates one."""
    raw = strict[1]
    raw.send(0, 0x01, b"hi")
    assert raw.error() == (0, ERR.INVALID_CHANNEL)
    raw.send(0x01020304, 0x01, b"hi")
    assert raw.error() == (0x01020304, ERR.INVALID_CHANNEL)
    raw.send(BROADCAST, 0x01, b"hi")
    assert raw.error() == (BROADCAST, ERR.INVALID_CHANNEL)
    raw.send(0x01020304, 0x06, b"12345678")
    assert raw.error() == (0x01020304, ERR.INVALID_CHANNEL)
    raw.write(struct.pack(">IB", 0x01020304, 0))
    assert raw.error() == (0x01020304, ERR.INVALID_CHANNEL)


def test_init_needs_an_eight_byte_nonce(raw: RawHost) -> None:
    raw.send(BROADCAST, 0x06, b"1234567")
    assert raw.error() == (BROADCAST, ERR.INVALID_LENGTH)


def test_message_size_is_advertised_and_enforced(raw: RawHost, ctap2: Ctap2) -> None:
    assert ctap2.info.max_msg_size == 2048
    cid = raw.init()
    raw.send(cid, 0x01, b"", length=2049)
    assert raw.error() == (cid, ERR.INVALID_LENGTH)
    raw.send(cid, 0x01, b"x" * 2048)
    assert raw.recv() == (cid, 0x01, b"x" * 2048)


def test_max_message_size_cannot_exceed_what_framing_carries() -> None:
    with pytest.raises(ValueError, match="max_msg_size"):
        ChipDevice(max_msg_size=MAX_FRAMED_SIZE + 1)


def test_empty_cbor_message_is_invalid_length(raw: RawHost) -> None:
    cid = raw.init()
    raw.send(cid, 0x10)
    assert raw.error() == (cid, ERR.INVALID_LENGTH)


def test_wrong_sequence_aborts_the_message(raw: RawHost) -> None:
    cid = raw.init()
    raw.send(cid, 0x01, b"", length=200)
    raw.write(struct.pack(">IB", cid, 0) + b"a" * 59)
    raw.write(struct.pack(">IB", cid, 2) + b"b" * 59)
    assert raw.error() == (cid, ERR.INVALID_SEQ)
    raw.write(struct.pack(">IB", cid, 1) + b"c" * 59)  # the message is gone: ignored
    raw.send(cid, 0x01, b"after")
    assert raw.recv() == (cid, 0x01, b"after")


def test_new_request_on_the_same_channel_mid_message_is_invalid_seq(raw: RawHost) -> None:
    cid = raw.init()
    raw.send(cid, 0x01, b"", length=100)
    raw.send(cid, 0x01, b"again")
    assert raw.error() == (cid, ERR.INVALID_SEQ)


def test_init_resynchronises_a_half_sent_message(raw: RawHost) -> None:
    cid = raw.init()
    raw.send(cid, 0x01, b"", length=100)
    assert raw.init(cid) == cid
    raw.send(cid, 0x01, b"fresh")
    assert raw.recv() == (cid, 0x01, b"fresh")


def test_spurious_continuation_is_ignored(raw: RawHost) -> None:
    cid = raw.init()
    raw.write(struct.pack(">IB", cid, 0) + b"x" * 59)
    assert raw.connection.pending() == 0


def test_message_timeout(raw: RawHost, clock: FrozenClock) -> None:
    cid = raw.init()
    raw.send(cid, 0x01, b"", length=200)
    clock.advance(0.4)
    raw.write(struct.pack(">IB", cid, 0) + b"a" * 59)  # continuation in time
    clock.advance(0.6)
    assert raw.error() == (cid, ERR.TIMEOUT)
    raw.send(cid, 0x01, b"next")
    assert raw.recv() == (cid, 0x01, b"next")


def test_other_channel_is_busy_while_a_message_arrives(raw: RawHost) -> None:
    a, b = raw.init(), raw.init()
    raw.send(a, 0x01, b"", length=100)
    raw.send(b, 0x01, b"me too")
    assert raw.error() == (b, ERR.CHANNEL_BUSY)
    raw.write(struct.pack(">IB", a, 0) + b"z" * 59)
    assert raw.recv() == (a, 0x01, b"\x00" * 57 + b"z" * 43)


def test_interleaved_channels_each_get_their_own_answers(raw: RawHost) -> None:
    channels = [raw.init() for _ in range(4)]
    for round_ in range(3):
        for i, cid in enumerate(channels):
            message = bytes([i, round_]) * 50
            raw.send(cid, 0x01, message)
            assert raw.recv() == (cid, 0x01, message)


def test_lock(raw: RawHost, clock: FrozenClock) -> None:
    a, b = raw.init(), raw.init()
    raw.send(a, 0x04, b"\x0b")
    assert raw.error() == (a, ERR.INVALID_PARAMETER)
    raw.send(a, 0x04, b"")
    assert raw.error() == (a, ERR.INVALID_LENGTH)
    raw.send(a, 0x04, b"\x05")
    assert raw.recv() == (a, 0x04, b"")
    raw.send(b, 0x01, b"x")
    assert raw.error() == (b, ERR.CHANNEL_BUSY)
    raw.send(a, 0x01, b"mine")
    assert raw.recv() == (a, 0x01, b"mine")
    clock.advance(5.1)  # the lock expires
    raw.send(b, 0x01, b"x")
    assert raw.recv() == (b, 0x01, b"x")
    raw.send(a, 0x04, b"\x05")
    raw.recv()
    raw.send(a, 0x04, b"\x00")  # released early
    raw.recv()
    raw.send(b, 0x01, b"y")
    assert raw.recv() == (b, 0x01, b"y")


def test_emulator_power_cycle_command_requires_the_lock(
    strict: tuple[ChipDevice, RawHost],
) -> None:
    device, raw = strict
    cid = raw.init()
    raw.send(cid, CMD_EMU_POWER_CYCLE)
    assert raw.error() == (cid, ERR.LOCK_REQUIRED)
    raw.send(cid, 0x04, b"\x02")
    raw.recv()
    raw.send(cid, CMD_EMU_POWER_CYCLE)
    assert raw.recv() == (cid, CMD_EMU_POWER_CYCLE, b"")
    assert device.boots == 2
    raw.send(cid, 0x01, b"x")  # channels did not survive the reboot
    assert raw.error() == (cid, ERR.INVALID_CHANNEL)


def test_channels_as_the_solo1_simulator_keeps_them(raw: RawHost, device: ChipDevice) -> None:
    """By default, as the SoloKeys solo1 simulator: a channel ID the host picked, by INIT or by
    use, is a channel (CTAP 2.1 §11.2.9.1.3 allocates only from the broadcast channel), and a
    channel outlives a power cycle, so tools written for that simulator run unmodified."""
    raw.send(0x01020304, 0x06, b"12345678")
    cid, cmd, payload = raw.recv()
    assert (cid, cmd, payload[:8]) == (0x01020304, 0x06, b"12345678")
    assert struct.unpack(">I", payload[8:12])[0] == 0x01020304
    raw.send(0x01020304, 0x01, b"hi")
    assert raw.recv() == (0x01020304, 0x01, b"hi")
    device.power_cycle()
    raw.send(0x01020304, 0x01, b"again")
    assert raw.recv() == (0x01020304, 0x01, b"again")
    raw.send(0x0A0B0C0D, 0x01, b"hi")  # a channel is open once used, as in solo1's simulator
    assert raw.recv() == (0x0A0B0C0D, 0x01, b"hi")
    raw.send(0, 0x01, b"hi")
    assert raw.error() == (0, ERR.INVALID_CHANNEL)
    raw.send(0xFFFFFFFF, 0x01, b"hi")
    assert raw.error() == (0xFFFFFFFF, ERR.INVALID_CHANNEL)


def test_short_reports_are_zero_padded(raw: RawHost) -> None:
    raw.talked_on.add(BROADCAST)
    raw.connection.write_packet(struct.pack(">IBH", BROADCAST, 0x86, 8) + b"abcdefgh")
    cid, cmd, _ = raw.recv()
    assert (cid, cmd) == (BROADCAST, 0x06)
    with pytest.raises(ValueError, match="report"):
        raw.connection.write_packet(b"x" * 65)


def test_frame_round_trips() -> None:
    payload = bytes(range(200))
    packets = frame(7, 0x10, payload)
    assert len(packets) == 4
    assert all(len(p) == 64 for p in packets)
    assert packets[1][4] == 0
    assert packets[3][4] == 2


# -- commands that wait: busy, keep-alive, cancel ------------------------------------------


def _get_assertion_request(cred_id: bytes) -> bytes:
    from fido2 import cbor

    return b"\x02" + cbor.encode({1: RP["id"], 2: CDH, 3: [{"type": "public-key", "id": cred_id}]})


@pytest.fixture
def waiting_device() -> ChipDevice:
    """A device on real time where nobody touches the button unless a test does."""
    chip = ChipDevice(clock=SystemClock(), presence="never", user_action_timeout=5.0)
    yield chip  # type: ignore[misc]
    chip.close()


def _credential(chip: ChipDevice) -> bytes:
    chip.presence = "always"
    hid = open_sim(chip)
    response = make_credential(Ctap2(hid))
    hid.close()
    chip.presence = "never"
    return bytes(descriptor_of(response)["id"])  # type: ignore[call-overload]


@pytest.mark.timeout(20)
def test_keepalive_every_100ms_while_waiting_for_touch(waiting_device: ChipDevice) -> None:
    cred_id = _credential(waiting_device)
    raw = RawHost(waiting_device.connect())
    cid = raw.init()
    raw.send(cid, 0x10, _get_assertion_request(cred_id))
    stamps = []
    statuses = set()
    start = time.monotonic()
    while time.monotonic() - start < 0.5:
        packet = raw.packet(1.0)
        assert packet[4] == 0x80 | 0x3B
        stamps.append(time.monotonic())
        statuses.add(packet[7])
    assert statuses == {STATUS.UPNEEDED}
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(stamps) >= 4
    assert sum(gaps) / len(gaps) < 0.1
    assert max(gaps) < 0.13  # 100 ms, plus scheduling jitter on a loaded machine
    other = raw.init()  # INIT still works; other commands are busy
    raw.send(other, 0x01, b"x")
    assert raw.error() == (other, ERR.CHANNEL_BUSY)
    waiting_device.touch()
    got_cid, cmd, payload = raw.recv(2.0)
    assert (got_cid, cmd, payload[0]) == (cid, 0x10, 0)
    raw.connection.close()


@pytest.mark.timeout(20)
def test_cancel_stops_the_wait(waiting_device: ChipDevice) -> None:
    cred_id = _credential(waiting_device)
    raw = RawHost(waiting_device.connect())
    cid = raw.init()
    raw.send(cid, 0x10, _get_assertion_request(cred_id))
    assert raw.packet(1.0)[4] == 0x80 | 0x3B
    raw.send(cid, 0x11)
    assert raw.recv(2.0) == (cid, 0x10, bytes([ERR.KEEPALIVE_CANCEL]))
    raw.connection.close()


@pytest.mark.timeout(20)
def test_python_fido2_cancel_event_and_keepalive_callback(waiting_device: ChipDevice) -> None:
    cred_id = _credential(waiting_device)
    hid = open_sim(waiting_device)
    ctap = Ctap2(hid)
    event = threading.Event()
    seen: list[int] = []

    def on_keepalive(status: int) -> None:
        seen.append(status)
        event.set()

    with pytest.raises(CtapError) as info:
        ctap.get_assertion(
            RP["id"],
            CDH,
            [{"type": "public-key", "id": cred_id}],
            event=event,
            on_keepalive=on_keepalive,
        )
    assert info.value.code == ERR.KEEPALIVE_CANCEL
    assert seen == [STATUS.UPNEEDED]
    hid.close()


def test_user_action_timeout(device: ChipDevice, ctap2: Ctap2) -> None:
    response = make_credential(ctap2)
    device.presence = "never"  # with a frozen clock, the 30 s pass at once
    with pytest.raises(CtapError) as info:
        ctap2.get_assertion(RP["id"], CDH, [descriptor_of(response)])
    assert info.value.code == ERR.USER_ACTION_TIMEOUT


def test_resync_during_a_wait_drops_the_answer(waiting_device: ChipDevice) -> None:
    cred_id = _credential(waiting_device)
    raw = RawHost(waiting_device.connect())
    cid = raw.init()
    raw.send(cid, 0x10, _get_assertion_request(cred_id))
    assert raw.init(cid) == cid
    raw.send(cid, 0x01, b"free again")
    assert raw.recv(2.0) == (cid, 0x01, b"free again")
    raw.connection.close()


def test_command_exceptions_become_err_other(device: ChipDevice, raw: RawHost) -> None:
    def broken(payload: bytes, activity: object) -> bytes:
        raise RuntimeError("bug")

    device.transport._on_cbor = broken  # type: ignore[assignment]
    cid = raw.init()
    raw.send(cid, CTAPHID.CBOR, b"\x04")
    assert raw.recv() == (cid, 0x10, bytes([ERR.OTHER]))
