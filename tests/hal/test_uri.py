"""Device URIs: what parses, what is refused and how the refusal reads."""

from __future__ import annotations

import pytest

from authenticators.hal import HalError, HalErrorCode, parse


@pytest.mark.parametrize(
    ("text", "scheme", "name", "canonical"),
    [
        ("sim:", "sim", "default", "sim:"),
        ("sim:lab-2", "sim", "lab-2", "sim:lab-2"),
        ("sim:x?presence=never", "sim", "x", "sim:x?presence=never"),
        ("sim:x?channels=strict&model=solo1", "sim", "x", "sim:x?model=solo1&channels=strict"),
        ("hid:auto", "hid", "auto", "hid:auto"),
        ("hid:/dev/hidraw3", "hid", "/dev/hidraw3", "hid:/dev/hidraw3"),
    ],
)
def test_sim_and_hid_uris(text: str, scheme: str, name: str, canonical: str) -> None:
    uri = parse(text)
    assert (uri.scheme, uri.name, uri.canonical) == (scheme, name, canonical)


def test_udp_uris_follow_the_solokeys_convention() -> None:
    uri = parse("udp://127.0.0.1:8111")
    assert (uri.host, uri.port, uri.reply_port) == ("127.0.0.1", 8111, 7112)
    uri = parse("udp://localhost:9000?reply=9001")
    assert (uri.host, uri.port, uri.reply_port) == ("127.0.0.1", 9000, 9001)
    assert uri.canonical == "udp://127.0.0.1:9000?reply=9001"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not a device URI"),
        ("usb:1", "not a device URI"),
        ("sim:no spaces", "name"),
        ("sim:x?presence=sometimes", "presence"),
        ("sim:x?colour=red", "unknown parameter"),
        ("sim:x?model=yubikey9", "mitid-chip, solo1, u2f-only"),
        ("sim:x?channels=loose", "channels=strict"),
        ("udp://192.0.2.1:8111", "loopback"),
        ("udp://127.0.0.1:99999", "port"),
        ("udp://127.0.0.1:8111?reply=x", "reply"),
        ("hid:", "path"),
    ],
)
def test_bad_uris_say_what_to_use(text: str, words: str) -> None:
    with pytest.raises(HalError) as exc:
        parse(text)
    assert exc.value.code is HalErrorCode.BAD_URI
    assert words in exc.value.message
    assert "sim:" in exc.value.message
    assert "hid:auto" in exc.value.message
