"""Seeds in and out: otpauth:// URIs and PSKC (RFC 6030) files."""

from __future__ import annotations

import base64

import pytest

from authenticators.codeviser.seeds import (
    SeedError,
    SeedImport,
    parse_otpauth,
    read_pskc,
    to_otpauth,
    write_pskc,
)
from authenticators.otp import Algorithm, OtpParams

SEED = b"12345678901234567890"
B32 = base64.b32encode(SEED).decode()


def test_otpauth_round_trip() -> None:
    params = OtpParams(Algorithm.SHA256, 8, 60)
    uri = to_otpauth(SEED, params, "demo token", "MitID", "CV0000000001")
    parsed = parse_otpauth(uri)
    assert parsed.seed == SEED
    assert parsed.params == params
    assert parsed.label == "demo token"
    assert parsed.issuer == "MitID"
    assert parsed.serial == "CV0000000001"


def test_otpauth_defaults_and_lenient_base32() -> None:
    parsed = parse_otpauth(f"otpauth://totp/x?secret={B32.lower().rstrip('=')}")
    assert parsed.seed == SEED
    assert parsed.params == OtpParams()


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("https://example.com", "otpauth"),
        (f"otpauth://hotp/x?secret={B32}&counter=1", "hotp.*totp"),
        ("otpauth://totp/x", "secret"),
        ("otpauth://totp/x?secret=!!!!", "base32"),
        ("otpauth://totp/x?secret=GEZDG", "at least"),
        (f"otpauth://totp/x?secret={B32}&digits=7", "digits"),
        (f"otpauth://totp/x?secret={B32}&digits=six", "digits"),
        (f"otpauth://totp/x?secret={B32}&period=45", "period"),
        (f"otpauth://totp/x?secret={B32}&algorithm=MD5", "algorithm"),
        (f"otpauth://totp/x?secret={B32}&secret={B32}", "more than once"),
    ],
)
def test_bad_uris_say_what_is_wrong(uri: str, words: str) -> None:
    with pytest.raises(SeedError, match=words):
        parse_otpauth(uri)


@pytest.mark.parametrize(
    "tail",
    ["&serial=a\udcdcb", "&issuer=\ud800", "&serial=" + "x" * 300, "&serial=a%0Ab"],
)
def test_text_fields_must_be_printable_text(tail: str) -> None:
    with pytest.raises(SeedError, match="text"):
        parse_otpauth(f"otpauth://totp/Example:alice?secret={B32}{tail}")


def test_a_seed_never_appears_in_an_error_or_repr() -> None:
    with pytest.raises(SeedError) as info:
        parse_otpauth(f"otpauth://totp/x?secret={B32}&digits=7")
    assert B32 not in str(info.value)
    assert "1234567890" not in repr(SeedImport(SEED, OtpParams()))


@pytest.mark.parametrize("password", [None, "vendor-secret"])
def test_pskc_round_trip(password: str | None) -> None:
    tokens = [
        SeedImport(SEED, OtpParams(), serial="CV1", label="one"),
        SeedImport(SEED[::-1], OtpParams(Algorithm.SHA512, 8, 60), serial="CV2"),
    ]
    data = write_pskc(tokens, password)
    if password:
        assert base64.b64encode(SEED).decode() not in data.decode()
    back = read_pskc(data, password)
    assert [(t.seed, t.params, t.serial) for t in back] == [
        (t.seed, t.params, t.serial) for t in tokens
    ]


def test_protected_pskc_needs_the_right_password() -> None:
    data = write_pskc([SeedImport(SEED, OtpParams(), serial="CV1")], "right")
    with pytest.raises(SeedError, match="password-protected"):
        read_pskc(data)
    with pytest.raises(SeedError, match="wrong --password"):
        read_pskc(data, "wrong")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not a valid PSKC"),
        (b"<xml", "not a valid PSKC"),
        (b"<?xml version='1.0'?><a/>", "PSKC"),
        (
            b'<?xml version="1.0"?><KeyContainer Version="1.0" '
            b'xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>',
            "no keys",
        ),
    ],
)
def test_broken_pskc_files(data: bytes, words: str) -> None:
    with pytest.raises(SeedError, match=words):
        read_pskc(data)


def test_rfc6030_figure_2_sample() -> None:
    """The plain-secret example of RFC 6030 section 6.1 (an HOTP key) is refused as not TOTP."""
    sample = b"""<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <DeviceInfo><Manufacturer>Manufacturer</Manufacturer><SerialNo>987654321</SerialNo></DeviceInfo>
    <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <Issuer>Issuer</Issuer>
      <AlgorithmParameters><ResponseFormat Length="8" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data>
        <Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
        <Counter><PlainValue>0</PlainValue></Counter>
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>"""
    with pytest.raises(SeedError, match="not TOTP"):
        read_pskc(sample)
    totp = sample.replace(b"pskc:hotp", b"pskc:totp")
    (parsed,) = read_pskc(totp)
    assert parsed.seed == SEED
    assert parsed.serial == "987654321"
    assert parsed.params.digits == 8
