"""CTAPHID packet streams into a fresh simulated chip, through its HID connection.

The input is a sequence of records: one control byte, then up to 64 bytes of report. The control
byte's low two bits put the report on a channel the harness opened (1 and 2), on the broadcast
channel (3), or leave the channel id as the fuzzer wrote it (0); bit 2 moves the device's clock
one second forward first (so half-sent messages time out); bit 3 of the first control byte makes
the device's channels spec-strict (otherwise they are lenient, as the solo1 simulator's).

Rules: every report the device sends is 64 bytes; an error carries one known code; a command
never crashes its handler; the device is idle again within a few seconds (no hang) and still
answers a PING after a power cycle.
"""

from __future__ import annotations

import struct
import time

from authenticators.clock import FrozenClock
from firmware_sim.chip import DeviceConnection
from firmware_sim.chip.ctaphid import (
    BROADCAST_CID,
    CMD_ERROR,
    CMD_INIT,
    CMD_PING,
    PACKET_SIZE,
    TYPE_INIT,
)
from security.fuzz import FuzzFailure
from security.fuzz._chip import KNOWN_STATUS, crash_log, fixed_device

RECORD = 1 + PACKET_SIZE
IDLE_DEADLINE = 5.0
ANSWER_COMMANDS = frozenset({0x01, 0x03, 0x04, 0x06, 0x08, 0x10, 0x3B, 0x3F, 0x70})


def _init(connection: DeviceConnection, cid: int = BROADCAST_CID) -> int:
    nonce = bytes(range(8))
    connection.write_packet(struct.pack(">IBH", cid, TYPE_INIT | CMD_INIT, 8) + nonce)
    while True:
        packet = connection.read_packet(1.0)
        if packet[4] == TYPE_INIT | CMD_INIT and packet[7:15] == nonce:
            new_cid: int = struct.unpack_from(">I", packet, 15)[0]
            return new_cid


def _check(packet: bytes) -> None:
    if len(packet) != PACKET_SIZE:
        raise FuzzFailure(f"a report of {len(packet)} bytes")
    if packet[4] & TYPE_INIT:
        cmd = packet[4] & 0x7F
        if cmd not in ANSWER_COMMANDS:
            raise FuzzFailure(f"an answer with command 0x{cmd:02x}")
        if cmd == CMD_ERROR:
            length = struct.unpack_from(">H", packet, 5)[0]
            if length != 1 or packet[7] not in KNOWN_STATUS:
                raise FuzzFailure(f"a malformed error report {packet[:8].hex()}")


def one_input(data: bytes) -> None:
    device = fixed_device(strict_channels=bool(data[:1]) and bool(data[0] & 0x08))
    clock = device.clock
    assert isinstance(clock, FrozenClock)
    connection = device.connect()
    crash_log.records.clear()
    try:
        write, read = connection.write_packet, connection.read_packet
        channels = [_init(connection), _init(connection)]
        for offset in range(0, len(data), RECORD):
            control, report = data[offset], data[offset + 1 : offset + RECORD]
            if not report:
                break
            if control & 0x04:
                clock.advance(1.0)
            route = control & 0x03
            if route in (1, 2):
                report = struct.pack(">I", channels[route - 1]) + report[4:]
            elif route == 3:
                report = struct.pack(">I", BROADCAST_CID) + report[4:]
            write(report)
            while connection.pending():
                _check(read(0))
        deadline = time.monotonic() + IDLE_DEADLINE
        while device.transport.busy():
            if time.monotonic() > deadline:
                raise FuzzFailure("the device stayed busy (a hang)")
            time.sleep(0.001)
        while connection.pending():
            _check(read(0))
        if crash_log.records:
            raise FuzzFailure(f"a command handler crashed: {crash_log.records[0].getMessage()}")
        device.power_cycle()
        while connection.pending():
            read(0)
        cid = _init(connection)
        write(struct.pack(">IBH", cid, TYPE_INIT | CMD_PING, 5) + b"alive")
        while True:
            packet = read(2.0)
            if struct.unpack_from(">I", packet)[0] == cid and packet[4] == TYPE_INIT | CMD_PING:
                break
        if packet[7:12] != b"alive":
            raise FuzzFailure("the device no longer answers a PING after a power cycle")
    finally:
        connection.close()
        device.close()
