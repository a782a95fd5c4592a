"""Every refusal of the chip is a status word, and a broken secure-messaging command ends the
session."""

from __future__ import annotations

import pytest

from authenticators.icao9303 import tlv
from firmware_sim.passport.chip import EF_CARD_ACCESS, ChipData, PassportChip
from tests.firmware_sim.passport.test_icao_vectors import D, h, scripted

SELECT_APP = bytes.fromhex("00A4040C07A0000002471001")


def bac_chip() -> PassportChip:
    chip = PassportChip(
        ChipData(
            files={0x011E: h("EF_COM"), EF_CARD_ACCESS: bytes.fromhex("3100")},
            mrz_information=D["MRZ_INFORMATION"],
        ),
        rng=scripted(h("RND_IC"), h("K_IC")),
    )
    chip.transmit(SELECT_APP)
    chip.transmit(bytes.fromhex("0084000008"))
    assert chip.transmit(bytes.fromhex("0082000028") + h("CMD_DATA") + b"\x28")[-2:] == b"\x90\x00"
    return chip


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        ("", "6700"),
        ("00A4", "6700"),
        ("00A4040C06A000000247", "6700"),  # Lc says 6, 5 bytes follow
        ("80A4040C07A0000002471001", "6E00"),  # proprietary class
        ("00CA000000", "6D00"),  # GET DATA: not here
        ("00A4040C07A0000002471002", "6A82"),  # another application
        ("00A4020C020101", "6A82"),  # DG1 before the application is selected
        ("00A4030C02011E", "6A86"),
        ("00B0000004", "6985"),  # nothing selected
        ("0084000004", "6700"),  # a challenge is 8 bytes
        ("0084010008", "6A86"),
        ("0082000028" + "00" * 40 + "28", "6985"),  # no GET CHALLENGE before
        ("0088000008" + "00" * 8 + "00", "6982"),  # Active Authentication needs SM
        ("0022C1A40F800A04007F00070202040202830101", "6A88"),  # no PACE on this chip
        ("10860000027C0000", "6985"),  # GENERAL AUTHENTICATE without MSE
        ("10B0000004", "6883"),  # chaining is for GENERAL AUTHENTICATE only
        ("0CB0000004", "6882"),  # SM without a session
    ],
)
def test_plain_refusals(apdu: str, sw: str) -> None:
    chip = PassportChip(ChipData(files={0x011E: h("EF_COM")}, mrz_information=D["MRZ_INFORMATION"]))
    assert chip.transmit(bytes.fromhex(apdu)).hex().upper() == sw


def test_files_need_an_access_protocol() -> None:
    chip = PassportChip(
        ChipData(
            files={0x011E: h("EF_COM"), EF_CARD_ACCESS: bytes.fromhex("3100")},
            mrz_information=D["MRZ_INFORMATION"],
        )
    )
    assert chip.transmit(bytes.fromhex("00A4020C02011C")).hex() == "9000"
    assert chip.transmit(bytes.fromhex("00B0000000")).hex() == "31009000"
    assert chip.transmit(SELECT_APP).hex() == "9000"
    assert chip.transmit(bytes.fromhex("00A4020C02011E")).hex() == "9000"
    assert chip.transmit(bytes.fromhex("00B0000004")).hex() == "6982"
    assert chip.transmit(bytes.fromhex("00B09E0004")).hex() == "6982"  # by SFI 1E


def test_a_wrong_mac_ends_the_session() -> None:
    chip = bac_chip()
    broken = bytearray(h("SELECT_C"))
    broken[-3] ^= 1  # the last MAC byte
    assert chip.transmit(bytes(broken)).hex() == "6988"
    assert not chip.secure
    assert chip.transmit(h("SELECT_C")).hex() == "6882"


def test_a_missing_mac_ends_the_session() -> None:
    chip = bac_chip()
    assert chip.transmit(bytes.fromhex("0CB00000039701 0400".replace(" ", ""))).hex() == "6987"
    assert not chip.secure


def test_a_plain_command_ends_the_session() -> None:
    chip = bac_chip()
    assert chip.transmit(bytes.fromhex("00A4020C02011E")).hex() == "9000"
    assert not chip.secure
    assert chip.transmit(bytes.fromhex("00B0000004")).hex() == "6982"


def test_errors_under_sm_are_protected() -> None:
    chip = bac_chip()
    # SELECT a file the chip lacks, under SM: the status word comes back in DO 99 with a MAC.
    from authenticators.icao9303.crypto import CipherKind, SessionKeys, pad

    keys = SessionKeys(CipherKind.TDES, h("KS_ENC"), h("KS_MAC"), int(D["SSC"], 16))
    header = bytes.fromhex("0CA4020C")
    body = tlv.tlv(0x87, b"\x01" + keys.encrypt(bytes.fromhex("0101")))
    keys.step()
    mac = keys.mac(pad(header, 8) + body)
    answer = chip.transmit(header + bytes([len(body) + 10]) + body + tlv.tlv(0x8E, mac) + b"\x00")
    assert answer[-2:].hex() == "6a82"
    objects = dict(tlv.parse(answer[:-2]))
    assert objects[0x99].hex() == "6a82"
    keys.step()
    assert objects[0x8E] == keys.mac(tlv.tlv(0x99, objects[0x99]))
    assert chip.secure


def test_offset_past_the_end_and_short_reads() -> None:
    chip = PassportChip(
        ChipData(files={EF_CARD_ACCESS: bytes(10)}, mrz_information=D["MRZ_INFORMATION"])
    )
    assert chip.transmit(bytes.fromhex("00B09C0000")).hex() == "00" * 10 + "9000"  # Le 00: all
    assert chip.transmit(bytes.fromhex("00B0000020")).hex() == "00" * 10 + "6282"
    assert chip.transmit(bytes.fromhex("00B0000A04")).hex() == "6b00"
    # The odd instruction: offset in DO 54, data in DO 53.
    assert chip.transmit(bytes.fromhex("00B1011C03540108" + "00")).hex() == "53020000" + "9000"
