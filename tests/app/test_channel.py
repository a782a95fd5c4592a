"""Channel binding: frames, the 4-digit code, QR images made with segno and read with zxing-cpp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from authenticators.app.channel import (
    BINDING_SIZE,
    ChannelError,
    Frame,
    FrameCollector,
    binding_code,
    code_problem,
    frames_for,
    new_binding_value,
    parse_frame,
    render_png,
    render_terminal,
    scan_frame_png,
    scan_png,
    write_png,
)

VALUE = bytes(range(BINDING_SIZE))


def test_two_frames_carry_one_half_each_in_the_mitid_format() -> None:
    one, two = frames_for(VALUE, 7)
    assert json.loads(one.payload()) == {"v": 1, "p": 1, "t": 2, "h": VALUE[:16].hex(), "uc": 7}
    assert json.loads(two.payload()) == {"v": 1, "p": 2, "t": 2, "h": VALUE[16:].hex(), "uc": 7}
    assert one.payload() == '{"v":1,"p":1,"t":2,"h":"000102030405060708090a0b0c0d0e0f","uc":7}'
    assert parse_frame(one.payload()) == one
    assert parse_frame(two.payload()) == two


def test_both_frames_of_one_update_give_the_value() -> None:
    collector = FrameCollector()
    one, two = frames_for(VALUE, 3)
    assert collector.add(two) is None
    assert collector.add(one) == VALUE
    restored = FrameCollector.from_dict(collector.to_dict())
    assert restored.value() == VALUE


def test_frames_of_different_updates_do_not_combine() -> None:
    collector = FrameCollector()
    other = new_binding_value()
    assert collector.add(frames_for(VALUE, 1)[0]) is None
    assert collector.add(frames_for(other, 2)[1]) is None
    assert collector.update == 2
    assert collector.add(frames_for(other, 2)[0]) == other


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("hello", "not JSON"),
        ("[1, 2]", "expected"),
        ('{"v":1,"p":1,"t":2,"h":"00"}', "expected"),
        ('{"v":2,"p":1,"t":2,"h":"' + "0" * 32 + '","uc":0}', "version"),
        ('{"v":1,"p":3,"t":2,"h":"' + "0" * 32 + '","uc":0}', "p must be"),
        ('{"v":1,"p":true,"t":2,"h":"' + "0" * 32 + '","uc":0}', "p must be"),
        ('{"v":1,"p":1,"t":3,"h":"' + "0" * 32 + '","uc":0}', "t must be"),
        ('{"v":1,"p":1,"t":2,"h":"' + "0" * 31 + '","uc":0}', "hex"),
        ('{"v":1,"p":1,"t":2,"h":"' + "g" * 32 + '","uc":0}', "hex"),
        ('{"v":1,"p":1,"t":2,"h":"' + "0" * 32 + '","uc":-1}', "uc must be"),
        ('{"v":1,"p":1,"t":2,"h":"' + "0" * 32 + '","uc":"1"}', "uc must be"),
        ("x" * 600, "too long"),
    ],
)
def test_anything_but_a_frame_is_refused_with_a_reason(payload: str, why: str) -> None:
    with pytest.raises(ChannelError, match=why) as info:
        parse_frame(payload)
    assert info.value.message.startswith("not a MitID QR frame")


def test_the_code_is_four_digits_derived_from_the_value() -> None:
    code = binding_code(VALUE)
    assert len(code) == 4
    assert code.isdigit()
    assert binding_code(VALUE) == code
    codes = {binding_code(new_binding_value()) for _ in range(50)}
    assert len(codes) > 40
    assert code_problem(code) is None
    for bad in ("123", "12345", "12a4", "１２３４"):
        assert code_problem(bad) is not None


@settings(max_examples=15, deadline=None)
@given(value=st.binary(min_size=BINDING_SIZE, max_size=BINDING_SIZE), update=st.integers(0, 10**6))
def test_a_frame_survives_png_render_and_scan(value: bytes, update: int) -> None:
    for frame in frames_for(value, update):
        assert scan_frame_png(render_png(frame.payload())) == frame


def test_write_png_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    one, two = frames_for(VALUE, 0)
    write_png(path, one.payload())
    write_png(path, two.payload())
    assert scan_frame_png(path) == two
    assert [p.name for p in tmp_path.iterdir()] == ["frame.png"]


def test_unreadable_images_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match=r"cannot read .*missing\.png"):
        scan_png(tmp_path / "missing.png")
    text = tmp_path / "text.png"
    text.write_text("not an image")
    with pytest.raises(ChannelError, match="not an image"):
        scan_png(text)
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    with pytest.raises(ChannelError, match="no QR code found"):
        scan_png(blank)
    other = tmp_path / "other.png"
    other.write_bytes(render_png("https://example.org/"))
    with pytest.raises(ChannelError, match="not a MitID QR frame"):
        scan_frame_png(other)


def test_the_terminal_drawing_is_a_qr_code() -> None:
    text = render_terminal(Frame(1, "0" * 32, 0).payload())
    lines = text.splitlines()
    assert len(lines) > 15
    assert set("".join(lines)) <= {"█", "▀", "▄", " "}
