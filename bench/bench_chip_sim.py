"""Benchmark: a getAssertion round trip through python-fido2 against the simulated chip.

Measured in one run, so the ratios compare like with like:

* floor — a bare ECDSA P-256 sign + verify with ``cryptography``;
* in process — python-fido2's ``Ctap2.send_cbor`` over ``CtapHidDevice`` (CTAPHID framing both
  ways, CBOR both ways, the device's ECDSA signature), target at most 5x the floor;
* over UDP — the same through the SoloKeys-convention UDP server with the SQLite state
  ``chip serve`` uses (the counter is committed before every answer), target at most 1.5 ms;
* for reference, ``Ctap2.get_assertion``, which adds python-fido2's own response parsing.

Run: ``python bench/bench_chip_sim.py [--seconds S]``. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.ctap2.base import Ctap2
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

from authenticators.store import Store
from firmware_sim.chip import ChipDevice, DeviceConnection, StoreBackend
from firmware_sim.udp import UdpServer

RP_ID = "example.com"
CDH = hashlib.sha256(b"bench").digest()


class _Sim(CtapHidConnection):
    def __init__(self, connection: DeviceConnection) -> None:
        self.connection = connection

    def read_packet(self) -> bytes:
        return self.connection.read_packet(10.0)

    def write_packet(self, data: bytes) -> None:
        self.connection.write_packet(data)

    def close(self) -> None:
        self.connection.close()


class _Udp(CtapHidConnection):
    """The host end of the SoloKeys convention: its own port receives the token's answers."""

    def __init__(self) -> None:
        self.token = ("127.0.0.1", 0)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10.0)

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port

    def read_packet(self) -> bytes:
        return self.sock.recv(1024)

    def write_packet(self, data: bytes) -> None:
        self.sock.sendto(data, self.token)

    def close(self) -> None:
        self.sock.close()


def _descriptor(path: str) -> HidDescriptor:
    return HidDescriptor(path, 0x1209, 0x000A, 64, 64, "bench", None)


def measure(fn: Callable[[], object], seconds: float) -> float:
    """Seconds per call: warm up, then time as many calls as fit in ``seconds``."""
    for _ in range(20):
        fn()
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(25):
            fn()
        calls += 25
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls


def floor_op() -> Callable[[], object]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    message = bytes(37) + CDH

    def op() -> None:
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
        public.verify(signature, message, ec.ECDSA(hashes.SHA256()))

    return op


def assertion_ops(ctap: Ctap2) -> tuple[Callable[[], object], Callable[[], object]]:
    made = ctap.make_credential(
        CDH, {"id": RP_ID, "name": "Bench"}, {"id": b"u"}, [{"type": "public-key", "alg": -7}]
    )
    assert made.auth_data.credential_data is not None
    allow: list[Mapping[str, Any]] = [
        {"type": "public-key", "id": made.auth_data.credential_data.credential_id}
    ]
    request = {1: RP_ID, 2: CDH, 3: allow}

    def raw() -> object:
        return ctap.send_cbor(Ctap2.CMD.GET_ASSERTION, request)

    def parsed() -> object:
        return ctap.get_assertion(RP_ID, CDH, allow)

    return raw, parsed


def report(name: str, per_call: float, floor: float) -> None:
    print(
        f"{name:<44} {1 / per_call:>9.0f} ops/s {per_call * 1e6:>9.1f} us"
        f"   {per_call / floor:>5.2f}x floor"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    floor = measure(floor_op(), args.seconds)
    report("floor: ECDSA P-256 sign + verify", floor, floor)

    chip = ChipDevice()
    hid = CtapHidDevice(_descriptor("sim:"), _Sim(chip.connect()))
    raw, parsed = assertion_ops(Ctap2(hid))
    in_process = measure(raw, args.seconds)
    report("in process: getAssertion (send_cbor)", in_process, floor)
    report("in process: Ctap2.get_assertion (+ parsing)", measure(parsed, args.seconds), floor)
    hid.close()
    chip.close()

    with tempfile.TemporaryDirectory() as state:
        store = Store(state)
        chip = ChipDevice(backend=StoreBackend(store))
        connection = _Udp()
        with UdpServer(chip, port=0, reply_port=connection.port) as server:
            connection.token = server.address
            hid = CtapHidDevice(_descriptor("udp"), connection)
            raw, parsed = assertion_ops(Ctap2(hid))
            over_udp = measure(raw, args.seconds)
            report("over UDP + SQLite: getAssertion (send_cbor)", over_udp, floor)
            report("over UDP + SQLite: Ctap2.get_assertion", measure(parsed, args.seconds), floor)
            hid.close()
        chip.close()
        store.close()

    print()
    print(f"in process: {in_process / floor:.2f}x the floor (target <= 5x)")
    print(f"over UDP:   {over_udp * 1e3:.3f} ms per round trip (target <= 1.5 ms)")


if __name__ == "__main__":
    main()
