"""CTAPHID (CTAP 2.1 §11.2): channels, framing, PING, WINK, LOCK, CANCEL and the error rules."""

from __future__ import annotations

import os
import struct

from authenticators.chip.selftest.runner import Area, Session, Skip, expect
from authenticators.hal import HalConnection, HalError, HalErrorCode

area = Area("ctaphid")

BROADCAST = 0xFFFFFFFF
CMD_PING = 0x01
CMD_LOCK = 0x04
CMD_INIT = 0x06
CMD_WINK = 0x08
CMD_CBOR = 0x10
CMD_CANCEL = 0x11
CMD_KEEPALIVE = 0x3B
CMD_ERROR = 0x3F
ERR_INVALID_CMD = 0x01
ERR_INVALID_LEN = 0x03
ERR_INVALID_SEQ = 0x04
ERR_INVALID_CHANNEL = 0x0B
CAP_WINK = 0x01
CAP_LOCK = 0x02
CAP_CBOR = 0x04
CAP_NMSG = 0x08


class RawChannel:
    """Report-by-report CTAPHID on the session's connection, for rules python-fido2 keeps."""

    def __init__(self, connection: HalConnection, timeout: float = 2.0) -> None:
        self.connection = connection
        self.timeout = timeout

    def write(self, packet: bytes) -> None:
        self.connection.write_packet(packet.ljust(64, b"\x00"))

    def send(self, cid: int, cmd: int, data: bytes = b"", length: int | None = None) -> None:
        size = len(data) if length is None else length
        self.write(struct.pack(">IBH", cid, 0x80 | cmd, size) + data[:57])
        rest, seq = data[57:], 0
        while rest:
            self.write(struct.pack(">IB", cid, seq) + rest[:59])
            rest, seq = rest[59:], seq + 1

    def packet(self, timeout: float | None = None) -> bytes | None:
        saved = self.connection.timeout
        self.connection.timeout = self.timeout if timeout is None else timeout
        try:
            return self.connection.read_packet()
        except HalError as exc:
            if exc.code is HalErrorCode.TIMEOUT:
                return None
            raise
        finally:
            self.connection.timeout = saved

    def recv(self, cid: int, timeout: float | None = None) -> tuple[int, bytes]:
        """The next whole message on ``cid`` (keep-alives skipped): (command, payload)."""
        while True:
            first = self.packet(timeout)
            expect(first is not None, f"no answer on channel 0x{cid:08x}")
            assert first is not None
            got_cid, cmd, length = struct.unpack_from(">IBH", first)
            if got_cid != cid or not cmd & 0x80 or cmd == 0x80 | CMD_KEEPALIVE:
                continue
            break
        data = bytearray(first[7:])
        seq = 0
        while len(data) < length:
            cont = self.packet(timeout)
            expect(cont is not None, "a continuation packet never came")
            assert cont is not None
            if struct.unpack_from(">I", cont)[0] != cid:
                continue
            expect(cont[4] == seq, f"continuation packet {cont[4]} where {seq} was due")
            data += cont[5:]
            seq += 1
        return cmd & 0x7F, bytes(data[:length])

    def silent(self, cid: int, wait: float = 0.25) -> bool:
        """True if nothing but keep-alives arrives on ``cid`` for ``wait`` seconds."""
        while True:
            packet = self.packet(wait)
            if packet is None:
                return True
            got_cid, cmd = struct.unpack_from(">IB", packet)
            if got_cid == cid and cmd != 0x80 | CMD_KEEPALIVE:
                return False

    def drain(self) -> None:
        while self.packet(0.05) is not None:
            pass

    def init(self, cid: int = BROADCAST) -> tuple[int, bytes]:
        nonce = os.urandom(8)
        self.send(cid, CMD_INIT, nonce)
        while True:
            cmd, payload = self.recv(cid)
            if cmd == CMD_INIT and payload[:8] != nonce:
                continue  # an answer to someone else's INIT
            break
        expect(cmd == CMD_INIT, f"INIT answered with command 0x{cmd:02x}")
        expect(len(payload) >= 17, f"INIT answer is {len(payload)} bytes, 17 are due")
        new_cid = struct.unpack_from(">I", payload, 8)[0]
        return new_cid, payload

    def error(self, cid: int) -> int:
        cmd, payload = self.recv(cid)
        expect(cmd == CMD_ERROR, f"expected CTAPHID_ERROR, got command 0x{cmd:02x}")
        return payload[0]


def raw(session: Session) -> RawChannel:
    return RawChannel(session.device.connection)


def _channel(session: Session) -> tuple[RawChannel, int]:
    channel = raw(session)
    cid, _ = channel.init()
    return channel, cid


@area.check("INIT on the broadcast channel allocates a new channel and echoes the nonce")
def init_allocates_channel(session: Session) -> str:
    channel = raw(session)
    cid, _ = channel.init()
    expect(cid not in (0, BROADCAST), f"allocated the reserved channel 0x{cid:08x}")
    other, _ = channel.init()
    expect(other != cid, "two INITs allocated the same channel")
    return f"channels 0x{cid:08x}, 0x{other:08x}"


@area.check("INIT reports CTAPHID protocol version 2")
def init_protocol_version(session: Session) -> str:
    _, payload = raw(session).init()
    expect(payload[12] == 2, f"protocol version {payload[12]}")
    return f"device version {payload[13]}.{payload[14]}.{payload[15]}"


@area.check("capability flags agree with getInfo (CBOR for CTAP2, MSG unless NMSG)")
def capabilities_consistent(session: Session) -> str:
    _, payload = raw(session).init()
    caps = payload[16]
    versions = session.info().versions
    if any(v.startswith("FIDO_2") for v in versions):
        expect(bool(caps & CAP_CBOR), "speaks CTAP2 but CBOR capability is clear")
    if "U2F_V2" in versions:
        expect(not caps & CAP_NMSG, "advertises U2F_V2 but sets NMSG (no MSG)")
    return f"capabilities 0x{caps:02x}"


@area.check("PING echoes a short message")
def ping_short(session: Session) -> None:
    data = os.urandom(16)
    expect(session.device.ctap.ping(data) == data, "PING answer differs")


@area.check("PING echoes a message spanning continuation packets")
def ping_long(session: Session) -> str:
    data = os.urandom(1000)
    expect(session.device.ctap.ping(data) == data, "PING answer differs")
    return "1000 bytes"


@area.check("WINK answers when the WINK capability is set")
def wink(session: Session) -> None:
    if not session.device.ctap.capabilities & CAP_WINK:
        raise Skip("WINK capability not advertised")
    session.device.ctap.wink()


@area.check("LOCK takes and releases the channel lock")
def lock(session: Session) -> None:
    if not session.device.ctap.capabilities & CAP_LOCK:
        raise Skip("LOCK capability not advertised")
    channel, cid = _channel(session)
    channel.send(cid, CMD_LOCK, b"\x02")
    cmd, _ = channel.recv(cid)
    expect(cmd == CMD_LOCK, f"LOCK answered with 0x{cmd:02x}")
    channel.send(cid, CMD_LOCK, b"\x00")
    cmd, _ = channel.recv(cid)
    expect(cmd == CMD_LOCK, f"unlock answered with 0x{cmd:02x}")


@area.check("an unknown command is refused with ERR_INVALID_CMD")
def unknown_command(session: Session) -> None:
    channel, cid = _channel(session)
    channel.send(cid, 0x2F, b"")
    code = channel.error(cid)
    expect(code == ERR_INVALID_CMD, f"error 0x{code:02x}, 0x01 is due")


@area.check("a message on the reserved channel 0 is refused with ERR_INVALID_CHANNEL")
def reserved_channel(session: Session) -> None:
    channel = raw(session)
    channel.send(0, CMD_PING, b"x")
    code = channel.error(0)
    expect(code == ERR_INVALID_CHANNEL, f"error 0x{code:02x}, 0x0b is due")


@area.check("a continuation packet out of sequence is refused with ERR_INVALID_SEQ")
def wrong_sequence(session: Session) -> None:
    channel, cid = _channel(session)
    channel.send(cid, CMD_PING, os.urandom(57), length=100)
    channel.write(struct.pack(">IB", cid, 1) + os.urandom(43))
    code = channel.error(cid)
    expect(code == ERR_INVALID_SEQ, f"error 0x{code:02x}, 0x04 is due")
    channel.drain()


@area.check("a message longer than the device accepts is refused with ERR_INVALID_LEN")
def too_long(session: Session) -> None:
    channel, cid = _channel(session)
    channel.send(cid, CMD_CBOR, b"\x04", length=0x7FFF)
    code = channel.error(cid)
    expect(code == ERR_INVALID_LEN, f"error 0x{code:02x}, 0x03 is due")
    channel.drain()


@area.check("a stray continuation packet is ignored")
def stray_continuation(session: Session) -> None:
    channel, cid = _channel(session)
    channel.write(struct.pack(">IB", cid, 0) + os.urandom(59))
    expect(channel.silent(cid), "answered a continuation packet that began no message")
    channel.send(cid, CMD_PING, b"still here")
    cmd, payload = channel.recv(cid)
    expect((cmd, payload) == (CMD_PING, b"still here"), "the channel no longer works")


@area.check("CANCEL with nothing to cancel gets no answer")
def idle_cancel(session: Session) -> None:
    channel, cid = _channel(session)
    channel.send(cid, CMD_CANCEL)
    expect(channel.silent(cid), "answered a CANCEL")


@area.check("INIT on an allocated channel aborts a half-sent message and keeps the channel")
def init_resynchronises(session: Session) -> None:
    channel, cid = _channel(session)
    channel.send(cid, CMD_PING, os.urandom(57), length=200)
    again, _ = channel.init(cid)
    expect(again == cid, f"re-INIT gave channel 0x{again:08x}, 0x{cid:08x} is due")
    channel.send(cid, CMD_PING, b"after")
    cmd, payload = channel.recv(cid)
    expect((cmd, payload) == (CMD_PING, b"after"), "the channel no longer works")
