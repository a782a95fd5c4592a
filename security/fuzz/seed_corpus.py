"""``python -m security.fuzz.seed_corpus``: write the seed inputs of every fuzz target.

The seeds are a handful of well-formed inputs per target (the fuzzer mutates from there), made
with the same fixed-secret chip the harnesses use, so key handles and credential IDs in them are
valid. Running it again rewrites the same files (names are content hashes).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from pathlib import Path

from authenticators.app.channel import frames_for
from authenticators.codeviser.seeds import SeedImport, to_otpauth, write_pskc
from authenticators.otp import Algorithm, OtpParams
from firmware_sim.chip import cbor
from firmware_sim.chip.presence import Activity
from security.fuzz import CORPUS
from security.fuzz._chip import fixed_device

CDH = hashlib.sha256(b"client data").digest()
RP = {"id": "example.com", "name": "Example"}
USER = {"id": b"user-1", "name": "bob", "displayName": "Bob"}
APP = hashlib.sha256(b"https://example.com").digest()


def write(target: str, inputs: Iterable[bytes]) -> int:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for data in inputs:
        name = f"seed-{hashlib.sha256(data).hexdigest()[:16]}"
        (folder / name).write_bytes(data)
        count += 1
    return count


def _command(cmd: int, params: dict[object, object] | None = None) -> bytes:
    return bytes([cmd]) + (cbor.encode(params) if params is not None else b"")


def ctap2_inputs() -> list[bytes]:
    device = fixed_device()
    make = _command(
        0x01,
        {1: CDH, 2: RP, 3: USER, 4: [{"type": "public-key", "alg": -7}], 7: {"rk": True}},
    )
    answer = device.ctap2.handle(make, Activity())
    auth_data = cbor.decode(answer[1:])[2]
    length = struct.unpack_from(">H", auth_data, 53)[0]
    cred_id = auth_data[55 : 55 + length]
    device.close()
    return [
        b"\x04",
        make,
        _command(
            0x01,
            {
                1: CDH,
                2: RP,
                3: USER,
                4: [{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}],
                6: {"credProtect": 2, "hmac-secret": True, "credBlob": b"blob"},
            },
        ),
        _command(0x02, {1: "example.com", 2: CDH, 3: [{"type": "public-key", "id": cred_id}]}),
        _command(0x02, {1: "example.com", 2: CDH, 5: {"up": False}}),
        _command(0x06, {1: 2, 2: 1}),
        _command(0x06, {1: 2, 2: 2}),
        _command(0x06, {1: 1, 2: 2}),
        b"\x07",
        b"\x08",
        b"\x0b",
        _command(0x0A, {1: 1}),
        _command(0x0C, {1: 32, 3: 0}),
        _command(0x0D, {1: 1}),
    ]


def u2f_inputs() -> list[bytes]:
    device = fixed_device()
    register = b"\x00\x01\x03\x00\x40" + CDH + APP
    answer = device.u2f.handle(register)
    handle = answer[67 : 67 + answer[66]]
    device.close()
    body = CDH + APP + bytes([len(handle)]) + handle
    return [
        b"\x00\x03\x00\x00",
        b"\x00\x03\x00\x00\x00\x00\x00",
        register,
        b"\x00\x01\x03\x00\x00\x00\x40" + CDH + APP + b"\x00\x00",
        b"\x00\x02\x03\x00" + bytes([len(body)]) + body,
        b"\x00\x02\x07\x00" + bytes([len(body)]) + body,
        b"\x00\x02\x08\x00" + bytes([len(body)]) + body + b"\x00",
    ]


def _record(route: int, report: bytes, advance: bool = False) -> bytes:
    control = route | (0x04 if advance else 0)
    return bytes([control]) + report.ljust(64, b"\x00")


def _init_packet(cmd: int, payload: bytes, length: int | None = None) -> bytes:
    size = len(payload) if length is None else length
    return struct.pack(">IBH", 0, 0x80 | cmd, size) + payload[:57]


def ctaphid_inputs() -> list[bytes]:
    long_ping = bytes(range(100))
    return [
        _record(1, _init_packet(0x01, b"hello")),
        _record(1, _init_packet(0x10, b"\x04")),
        _record(1, _init_packet(0x01, long_ping))
        + _record(1, struct.pack(">IB", 0, 0) + long_ping[57:]),
        _record(1, _init_packet(0x01, long_ping)) + _record(2, _init_packet(0x01, b"x")),
        _record(1, _init_packet(0x01, long_ping)) + _record(1, b"\x00" * 5, advance=True),
        _record(1, _init_packet(0x08, b"")) + _record(2, _init_packet(0x04, b"\x05")),
        _record(1, _init_packet(0x04, b"\x02")) + _record(1, _init_packet(0x70, b"")),
        _record(3, _init_packet(0x06, b"12345678")),
        _record(1, _init_packet(0x10, b"\x07")) + _record(1, _init_packet(0x11, b"")),
        _record(1, _init_packet(0x03, b"\x00\x03\x00\x00")),
        _record(0, struct.pack(">IBH", 0x01020304, 0x81, 1) + b"x"),
    ]


def otpauth_inputs() -> list[bytes]:
    seed = bytes(range(20))
    return [
        to_otpauth(seed, OtpParams(), "alice", "MitID Emulator").encode(),
        to_otpauth(seed + seed, OtpParams(Algorithm.SHA256, 8, 60), "bob", "X", "CV123").encode(),
        b"otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Example",
        b"otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1",
        b"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=7",
        b"otpauth://totp/x?secret=not-base32",
    ]


def pskc_inputs() -> list[bytes]:
    one = SeedImport(bytes(range(20)), OtpParams(), serial="CV0001", label="alice")
    two = SeedImport(bytes(range(32)), OtpParams(Algorithm.SHA256, 8, 60), serial="CV0002")
    return [write_pskc([one]), write_pskc([one, two]), write_pskc([two], password="qwerty")]  # noqa: S106


def qr_frame_inputs() -> list[bytes]:
    first, second = frames_for(bytes(range(32)), 7)
    return [
        first.payload().encode(),
        second.payload().encode(),
        b'{"v":1,"p":1,"t":2,"h":"00","uc":0}',
        b'{"v":2,"p":1,"t":2,"h":"000102030405060708090a0b0c0d0e0f","uc":0}',
    ]


GENERATORS = {
    "ctap2": ctap2_inputs,
    "u2f": u2f_inputs,
    "ctaphid": ctaphid_inputs,
    "otpauth": otpauth_inputs,
    "pskc": pskc_inputs,
    "qr_frame": qr_frame_inputs,
}


def main() -> None:
    for target, make in GENERATORS.items():
        print(f"{target}: {write(target, make())} seed inputs in {Path(CORPUS / target)}")


if __name__ == "__main__":
    main()
