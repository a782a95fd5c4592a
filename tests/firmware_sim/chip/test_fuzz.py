"""Hypothesis-generated packets, CBOR and APDUs: the simulator never crashes, never hangs, and
always answers with a protocol error or a well-formed response."""

from __future__ import annotations

import os
import struct
import time
from typing import Any

import pytest
from fido2 import cbor as fido2_cbor
from fido2.ctap import CtapError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice, ChipError
from firmware_sim.chip import cbor as chip_cbor
from firmware_sim.chip.presence import Activity

from .conftest import RawHost

KNOWN_STATUS = {int(code) for code in CtapError.ERR}
FUZZ = settings(
    max_examples=int(os.environ.get("CHIP_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.binary(max_size=80)
    | st.text(max_size=20)
    | st.booleans()
    | st.none()
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.integers(-5, 12) | st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
param_keys = st.integers(min_value=1, max_value=12)
requests = st.dictionaries(param_keys, values, max_size=8)
commands = st.sampled_from([0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0x41])


def _encodable(value: Any) -> Any:
    """fido2's encoder has no ``None``; drop it where hypothesis put it."""
    if isinstance(value, dict):
        return {k: _encodable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_encodable(v) for v in value if v is not None]
    return value


@pytest.fixture(scope="module")
def fuzz_device() -> ChipDevice:
    chip = ChipDevice(clock=FrozenClock(), presence="always", user_action_timeout=0.1)
    yield chip  # type: ignore[misc]
    chip.close()


@FUZZ
@given(data=st.binary(max_size=200))
def test_cbor_decoder_only_raises_chip_errors(data: bytes) -> None:
    code = None
    try:
        chip_cbor.decode(data)
    except ChipError as exc:
        code = exc.code
    assert code in (None, CtapError.ERR.INVALID_CBOR)


@FUZZ
@given(value=values.filter(lambda v: v is not None))
def test_cbor_round_trip(value: Any) -> None:
    encoded = fido2_cbor.encode(_encodable(value))
    assert chip_cbor.encode(chip_cbor.decode(encoded)) == encoded


@FUZZ
@given(command=commands, params=requests)
def test_cbor_commands_answer_status_or_canonical_map(
    fuzz_device: ChipDevice, command: int, params: dict[int, Any]
) -> None:
    answer = fuzz_device.ctap2.handle(
        bytes([command]) + fido2_cbor.encode(_encodable(params)), Activity()
    )
    assert answer[0] in KNOWN_STATUS
    if answer[0] == 0 and len(answer) > 1:
        body = chip_cbor.decode(answer[1:])
        assert isinstance(body, dict)
        assert fido2_cbor.encode(body) == answer[1:]
    else:
        assert len(answer) == 1


_CDH = b"\x11" * 32
_BASES: list[tuple[int, dict[Any, Any]]] = [
    (
        0x01,
        {
            1: _CDH,
            2: {"id": "example.com", "name": "Example"},
            3: {"id": b"user", "name": "u", "displayName": "U"},
            4: [{"type": "public-key", "alg": -7}],
            6: {"credProtect": 2, "hmac-secret": True, "credBlob": b"b", "minPinLength": True},
            7: {"rk": True},
        },
    ),
    (
        0x02,
        {
            1: "example.com",
            2: _CDH,
            3: [{"type": "public-key", "id": b"\x01" * 64}],
            4: {"credBlob": True, "largeBlobKey": True},
            5: {"up": False},
        },
    ),
    (0x06, {1: 2, 2: 9, 3: {1: 2, 3: -25, -1: 1, -2: b"x" * 32, -3: b"y" * 32}, 6: b"z" * 32}),
    (0x0A, {1: 4, 2: {1: b"h" * 32}, 3: 2, 4: b"p" * 32}),
    (0x0C, {2: b"blob", 3: 0, 4: 20}),
    (0x0D, {1: 3, 2: {1: 6, 2: ["example.com"], 3: False}}),
]


@FUZZ
@given(
    base=st.sampled_from(_BASES),
    changes=st.dictionaries(st.integers(1, 10) | st.text(max_size=3), values, max_size=3),
    nested=st.dictionaries(st.text(max_size=12), values, max_size=3),
)
def test_mutated_valid_requests(
    fuzz_device: ChipDevice,
    base: tuple[int, dict[Any, Any]],
    changes: dict[Any, Any],
    nested: dict[str, Any],
) -> None:
    command, params = base
    request = {**params, **changes}
    for key, value in request.items():
        if isinstance(value, dict) and nested:
            request[key] = {**value, **nested}
            break
    answer = fuzz_device.ctap2.handle(
        bytes([command]) + fido2_cbor.encode(_encodable(request)), Activity()
    )
    assert answer[0] in KNOWN_STATUS


@FUZZ
@given(apdu=st.binary(max_size=300))
def test_apdus_always_end_in_a_status_word(fuzz_device: ChipDevice, apdu: bytes) -> None:
    answer = fuzz_device.u2f.handle(apdu)
    assert len(answer) >= 2
    sw = struct.unpack(">H", answer[-2:])[0]
    assert sw in (0x9000, 0x6985, 0x6A80, 0x6700, 0x6D00, 0x6E00)


def packets(cids: list[int]) -> st.SearchStrategy[bytes]:
    cid = st.sampled_from([*cids, 0, 0xFFFFFFFF]) | st.integers(0, 2**32 - 1)
    init_cmd = st.sampled_from([0x81, 0x83, 0x84, 0x86, 0x88, 0x90, 0x91, 0xBB, 0xBF, 0xF0])
    init = st.builds(
        lambda c, cmd, length, data: struct.pack(">IBH", c, cmd, length) + data,
        cid,
        init_cmd | st.integers(0x80, 0xFF),
        st.integers(0, 300) | st.integers(0, 0xFFFF),
        st.binary(max_size=57),
    )
    cont = st.builds(
        lambda c, seq, data: struct.pack(">IB", c, seq) + data,
        cid,
        st.integers(0, 3) | st.integers(0, 0x7F),
        st.binary(max_size=59),
    )
    return init | cont


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_packet_streams(fuzz_device: ChipDevice, data: st.DataObject) -> None:
    raw = RawHost(fuzz_device.connect())
    try:
        cids = [raw.init(), raw.init()]
        stream = data.draw(st.lists(packets(cids), max_size=25))
        for packet in stream:
            raw.connection.write_packet(packet.ljust(64, b"\x00"))
        # let any command the stream started finish, then check every report that came out
        deadline = time.monotonic() + 5
        while fuzz_device.transport.busy() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert not fuzz_device.transport.busy()
        while raw.connection.pending():
            out = raw.packet(1.0)
            assert len(out) == 64
            if out[4] & 0x80:
                cmd, length = out[4] & 0x7F, struct.unpack_from(">H", out, 5)[0]
                if cmd == 0x3F:
                    assert length == 1
                    assert out[7] in KNOWN_STATUS
                else:
                    assert cmd in (0x01, 0x03, 0x04, 0x06, 0x08, 0x10, 0x3B, 0x70)
        # and the device still works afterwards
        fuzz_device.power_cycle()  # a stream may have left a lock or half a message behind
        raw.talked_on.clear()
        cid = raw.init()
        raw.send(cid, 0x01, b"alive")
        assert raw.recv(5.0) == (cid, 0x01, b"alive")
    finally:
        raw.connection.close()
