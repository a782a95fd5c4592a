"""CTAPHID (CTAP 2.1 §11.2): 64-byte reports, channels, framing, keep-alive, cancel and errors.

The transport reassembles messages per channel, answers INIT/PING/WINK/LOCK itself and hands
CBOR and MSG requests to a worker thread, so that while a command waits for a touch the device
still answers other channels (``ERR_CHANNEL_BUSY``), honours CANCEL and sends KEEPALIVE at least
every 100 ms. Every answer is broadcast to every open connection, as a HID input report reaches
every reader of the device node; hosts filter by channel.
"""

from __future__ import annotations

import logging
import queue
import secrets
import struct
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from authenticators.clock import Clock
from firmware_sim.chip.errors import Status
from firmware_sim.chip.presence import Activity

log = logging.getLogger(__name__)

PACKET_SIZE = 64
INIT_DATA_SIZE = PACKET_SIZE - 7
CONT_DATA_SIZE = PACKET_SIZE - 5
MAX_FRAMED_SIZE = INIT_DATA_SIZE + 128 * CONT_DATA_SIZE  # 7609, the framing's own limit
BROADCAST_CID = 0xFFFFFFFF
TYPE_INIT = 0x80

CMD_PING = 0x01
CMD_MSG = 0x03
CMD_LOCK = 0x04
CMD_INIT = 0x06
CMD_WINK = 0x08
CMD_CBOR = 0x10
CMD_CANCEL = 0x11
CMD_KEEPALIVE = 0x3B
CMD_ERROR = 0x3F
#: Emulator-only vendor command: power-cycle the device. It needs the channel lock, because
#: rebooting drops every other host's channel.
CMD_EMU_POWER_CYCLE = 0x70

CAPABILITY_WINK = 0x01
CAPABILITY_LOCK = 0x02
CAPABILITY_CBOR = 0x04
CAPABILITIES = CAPABILITY_WINK | CAPABILITY_LOCK | CAPABILITY_CBOR

PROTOCOL_VERSION = 2
MAX_LOCK_SECONDS = 10
MAX_CHANNELS = 1024
#: Keep-alives go out when nothing else was sent for this long (the limit is 100 ms).
KEEPALIVE_INTERVAL = 0.08
#: A message whose next continuation packet does not arrive in time is abandoned.
MESSAGE_TIMEOUT = 0.5
#: The response to a request whose handler crashed: CTAP2_ERR_OTHER / SW_UNKNOWN.
_CRASH_ANSWERS = {CMD_CBOR: bytes([Status.OTHER]), CMD_MSG: b"\x6f\x00"}

RequestHandler = Callable[[bytes, Activity], bytes]


@dataclass
class _Assembly:
    cid: int
    cmd: int
    length: int
    data: bytearray
    seq: int
    last_packet: float


@dataclass
class _Job:
    cid: int
    cmd: int
    payload: bytes = field(repr=False)
    activity: Activity = field(default_factory=Activity)
    done: threading.Event = field(default_factory=threading.Event)


def frame(cid: int, cmd: int, payload: bytes) -> list[bytes]:
    """Split one message into an initialization packet and continuation packets."""
    head = struct.pack(">IBH", cid, TYPE_INIT | cmd, len(payload))
    packets = [(head + payload[:INIT_DATA_SIZE]).ljust(PACKET_SIZE, b"\x00")]
    offset, seq = INIT_DATA_SIZE, 0
    while offset < len(payload):
        chunk = payload[offset : offset + CONT_DATA_SIZE]
        packets.append((struct.pack(">IB", cid, seq) + chunk).ljust(PACKET_SIZE, b"\x00"))
        offset += CONT_DATA_SIZE
        seq += 1
    return packets


class Outbox:
    """The packets one reader has yet to read; keep-alives are made while it waits."""

    def __init__(self, transport: CtapHidTransport) -> None:
        self._transport = transport
        self._cond = threading.Condition()
        self._packets: deque[bytes] = deque()
        self.closed = False

    def push(self, packets: list[bytes]) -> None:
        with self._cond:
            self._packets.extend(packets)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._packets)

    def pop(self, timeout: float | None) -> bytes:
        """The next packet; raises ``TimeoutError`` when none came within ``timeout``."""
        remaining = timeout
        while True:
            self._transport.poll()
            wait = KEEPALIVE_INTERVAL if remaining is None else min(remaining, KEEPALIVE_INTERVAL)
            with self._cond:
                if not self._packets and not self.closed and wait > 0:
                    self._cond.wait(wait)
                if self._packets:
                    return self._packets.popleft()
                if self.closed:
                    raise ConnectionError("connection closed")
            keepalive = self._transport.keepalive_packet()
            if keepalive is not None and wait >= KEEPALIVE_INTERVAL:
                return keepalive
            if remaining is not None:
                remaining -= wait
                if remaining <= 0:
                    raise TimeoutError("no packet from the device")


class CtapHidTransport:
    """Device-side CTAPHID: feed it host packets with :meth:`receive`; read answers from an
    :class:`Outbox` obtained with :meth:`open`."""

    def __init__(
        self,
        clock: Clock,
        *,
        on_cbor: RequestHandler,
        on_msg: RequestHandler,
        on_power_cycle: Callable[[], None],
        max_msg_size: int = 2048,
        device_version: tuple[int, int, int] = (1, 0, 0),
        message_timeout: float = MESSAGE_TIMEOUT,
        cbor: bool = True,
        strict_channels: bool = False,
    ) -> None:
        if not 0 < max_msg_size <= MAX_FRAMED_SIZE:
            raise ValueError(f"max_msg_size must be between 1 and {MAX_FRAMED_SIZE}")
        self._clock = clock
        self._on_cbor = on_cbor
        self._on_msg = on_msg
        self._on_power_cycle = on_power_cycle
        self.max_msg_size = max_msg_size
        self.device_version = device_version
        self.message_timeout = message_timeout
        #: A U2F-only key neither announces nor takes CTAPHID_CBOR.
        self.capabilities = CAPABILITIES if cbor else CAPABILITIES & ~CAPABILITY_CBOR
        #: Strict: only INIT on the broadcast channel allocates one, and a power cycle forgets
        #: every channel (CTAP 2.1 §11.2). Lenient, as the SoloKeys solo1 simulator: a channel ID
        #: the host picked (by INIT or by simply using it) is a channel, even after a power cycle.
        self.strict_channels = strict_channels
        self._lock = threading.RLock()
        self._outboxes: list[Outbox] = []
        self._channels: OrderedDict[int, None] = OrderedDict()
        self._assembly: _Assembly | None = None
        self._job: _Job | None = None
        self._lock_owner: int | None = None
        self._lock_until = 0.0
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self.winks = 0

    def __repr__(self) -> str:
        return f"CtapHidTransport(channels={len(self._channels)})"

    # -- readers ---------------------------------------------------------------------------

    def open(self) -> Outbox:
        outbox = Outbox(self)
        with self._lock:
            self._outboxes.append(outbox)
        return outbox

    def release(self, outbox: Outbox) -> None:
        outbox.close()
        with self._lock:
            if outbox in self._outboxes:
                self._outboxes.remove(outbox)

    def _send(self, cid: int, cmd: int, payload: bytes) -> None:
        packets = frame(cid, cmd, payload)
        for outbox in self._outboxes:
            outbox.push(packets)

    def _error(self, cid: int, code: Status) -> None:
        self._send(cid, CMD_ERROR, bytes([code]))

    def keepalive_packet(self) -> bytes | None:
        """A KEEPALIVE for the command in progress, if there is one."""
        job = self._job
        if job is None:
            return None
        return frame(job.cid, CMD_KEEPALIVE, bytes([job.activity.status]))[0]

    # -- timers ----------------------------------------------------------------------------

    def poll(self) -> None:
        """Abandon a message whose continuation stopped coming (``ERR_MSG_TIMEOUT``)."""
        assembly = self._assembly
        if assembly is None:
            return
        with self._lock:
            assembly = self._assembly
            if assembly is None:
                return
            if self._clock.monotonic() - assembly.last_packet > self.message_timeout:
                self._assembly = None
                self._error(assembly.cid, Status.TIMEOUT)

    def _locked_by_other(self, cid: int) -> bool:
        if self._lock_owner is None:
            return False
        if self._clock.monotonic() >= self._lock_until:
            self._lock_owner = None
            return False
        return self._lock_owner != cid

    # -- incoming packets ------------------------------------------------------------------

    def receive(self, packet: bytes) -> None:
        """One report from the host. Shorter reports are zero-padded, as HID pads them."""
        packet = bytes(packet[:PACKET_SIZE]).ljust(PACKET_SIZE, b"\x00")
        after: Callable[[], None] | None = None
        with self._lock:
            self.poll()
            cid = struct.unpack_from(">I", packet)[0]
            if packet[4] & TYPE_INIT:
                after = self._initialization(cid, packet[4] & 0x7F, packet)
            else:
                after = self._continuation(cid, packet[4], packet)
        if after is not None:
            after()

    def _initialization(self, cid: int, cmd: int, packet: bytes) -> Callable[[], None] | None:
        length = struct.unpack_from(">H", packet, 5)[0]
        if cid == 0:
            self._error(cid, Status.INVALID_CHANNEL)
            return None
        if cmd == CMD_INIT:
            self._init(cid, length, packet[7:15])
            return None
        if not self._known(cid):
            self._error(cid, Status.INVALID_CHANNEL)
            return None
        if cmd == CMD_CANCEL:
            job = self._job
            if job is not None and job.cid == cid:
                job.activity.cancelled.set()
            return None
        if self._job is not None:
            self._error(cid, Status.CHANNEL_BUSY)
            return None
        if self._locked_by_other(cid):
            self._error(cid, Status.CHANNEL_BUSY)
            return None
        assembly = self._assembly
        if assembly is not None:
            if assembly.cid != cid:
                self._error(cid, Status.CHANNEL_BUSY)
                return None
            self._assembly = None
            self._error(cid, Status.INVALID_SEQ)
            return None
        if length > self.max_msg_size:
            self._error(cid, Status.INVALID_LENGTH)
            return None
        known = (CMD_PING, CMD_MSG, CMD_LOCK, CMD_WINK, CMD_CBOR, CMD_EMU_POWER_CYCLE)
        if cmd not in known or (cmd == CMD_CBOR and not self.capabilities & CAPABILITY_CBOR):
            self._error(cid, Status.INVALID_COMMAND)
            return None
        if length <= INIT_DATA_SIZE:
            return self._dispatch(cid, cmd, packet[7 : 7 + length])
        self._channels.move_to_end(cid)
        self._assembly = _Assembly(
            cid, cmd, length, bytearray(packet[7:]), 0, self._clock.monotonic()
        )
        return None

    def _continuation(self, cid: int, seq: int, packet: bytes) -> Callable[[], None] | None:
        if cid == 0 or not self._known(cid):
            self._error(cid, Status.INVALID_CHANNEL)
            return None
        assembly = self._assembly
        if assembly is None or assembly.cid != cid:
            return None  # a continuation without a message in progress is ignored (§11.2.4)
        if seq != assembly.seq:
            self._assembly = None
            self._error(cid, Status.INVALID_SEQ)
            return None
        assembly.data += packet[5:]
        assembly.seq += 1
        assembly.last_packet = self._clock.monotonic()
        if len(assembly.data) < assembly.length:
            return None
        self._assembly = None
        return self._dispatch(cid, assembly.cmd, bytes(assembly.data[: assembly.length]))

    def _known(self, cid: int) -> bool:
        """Whether ``cid`` is an open channel. Lenient channels open on first use, as the
        solo1 simulator takes traffic on any channel but 0 and broadcast."""
        if cid == BROADCAST_CID:
            return False
        if cid not in self._channels:
            if self.strict_channels:
                return False
            self._open_channel(cid)
        return True

    def _init(self, cid: int, length: int, nonce: bytes) -> None:
        if length != 8:
            self._error(cid, Status.INVALID_LENGTH)
            return
        if cid == BROADCAST_CID:
            new_cid = self._allocate()
        elif cid in self._channels or not self.strict_channels:
            new_cid = cid
            self._open_channel(cid)
            if self._assembly is not None and self._assembly.cid == cid:
                self._assembly = None
            job = self._job
            if job is not None and job.cid == cid:
                job.activity.cancelled.set()
                self._job = None  # its answer is dropped: the host resynchronised
        else:
            self._error(cid, Status.INVALID_CHANNEL)
            return
        major, minor, build = self.device_version
        payload = nonce + struct.pack(
            ">IBBBBB", new_cid, PROTOCOL_VERSION, major, minor, build, self.capabilities
        )
        self._send(cid, CMD_INIT, payload)

    def _allocate(self) -> int:
        while True:
            new_cid = secrets.randbits(32)
            if new_cid not in (0, BROADCAST_CID) and new_cid not in self._channels:
                break
        self._open_channel(new_cid)
        return new_cid

    def _open_channel(self, cid: int) -> None:
        self._channels[cid] = None
        self._channels.move_to_end(cid)
        while len(self._channels) > MAX_CHANNELS:
            self._channels.popitem(last=False)

    def _dispatch(self, cid: int, cmd: int, payload: bytes) -> Callable[[], None] | None:
        if cmd == CMD_PING:
            self._send(cid, CMD_PING, payload)
        elif cmd == CMD_WINK:
            if payload:
                self._error(cid, Status.INVALID_LENGTH)
                return None
            self.winks += 1
            self._send(cid, CMD_WINK, b"")
        elif cmd == CMD_LOCK:
            if len(payload) != 1:
                self._error(cid, Status.INVALID_LENGTH)
                return None
            seconds = payload[0]
            if seconds > MAX_LOCK_SECONDS:
                self._error(cid, Status.INVALID_PARAMETER)
                return None
            if seconds == 0:
                self._lock_owner = None
            else:
                self._lock_owner = cid
                self._lock_until = self._clock.monotonic() + seconds
            self._send(cid, CMD_LOCK, b"")
        elif cmd == CMD_EMU_POWER_CYCLE:
            if self._lock_owner != cid or self._locked_by_other(cid):
                self._error(cid, Status.LOCK_REQUIRED)
                return None
            self._send(cid, CMD_EMU_POWER_CYCLE, b"")
            return self._on_power_cycle
        else:  # CBOR or MSG
            if cmd == CMD_CBOR and not payload:
                self._error(cid, Status.INVALID_LENGTH)
                return None
            job = _Job(cid, cmd, payload)
            self._job = job
            self._start_worker()
            self._jobs.put(job)
        return None

    # -- the worker ------------------------------------------------------------------------

    def _start_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._work, name="chip-ctaphid-worker", daemon=True
            )
            self._worker.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            handler = self._on_cbor if job.cmd == CMD_CBOR else self._on_msg
            try:
                answer = handler(job.payload, job.activity)
            except Exception as exc:  # a bug must not take the device down
                log.error("chip command 0x%02x crashed: %s", job.cmd, type(exc).__name__)
                answer = _CRASH_ANSWERS[job.cmd]
            with self._lock:
                if self._job is job:
                    self._job = None
                    self._send(job.cid, job.cmd, answer)
            job.done.set()

    def busy(self) -> bool:
        return self._job is not None

    # -- power -----------------------------------------------------------------------------

    def power_off(self, wait: float = 5.0) -> None:
        """Abandon the command in progress (its answer is dropped) and, with strict channels,
        lose every channel."""
        with self._lock:
            job = self._job
            self._job = None
            self._assembly = None
            if self.strict_channels:
                self._channels.clear()
            self._lock_owner = None
            if job is not None:
                job.activity.cancelled.set()
        if job is not None and threading.current_thread() is not self._worker:
            job.done.wait(wait)

    def close(self) -> None:
        self.power_off()
        with self._lock:
            outboxes = list(self._outboxes)
            self._outboxes.clear()
        for outbox in outboxes:
            outbox.close()
        if self._worker is not None:
            self._jobs.put(None)
            if threading.current_thread() is not self._worker:
                self._worker.join(timeout=5.0)
            self._worker = None
