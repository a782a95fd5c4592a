"""The chip against ICAO 9303-11's worked examples, byte for byte: Appendix D (BAC and secure
messaging) and Appendix G.1 (PACE, generic mapping, brainpoolP256r1, AES-128)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from authenticators.icao9303.crypto import (
    ENC,
    MAC,
    PACE,
    CipherKind,
    bac_seed,
    kdf,
)
from authenticators.icao9303.mrz import mrz_information
from firmware_sim.passport.chip import EF_CARD_ACCESS, ChipData, PassportChip
from tests.support import load_vectors

D = load_vectors("icao-9303-11-appendix-d.txt")[0]
G1 = load_vectors("icao-9303-11-appendix-g1.txt")[0]


def h(name: str, vectors: dict[str, str] = D) -> bytes:
    return bytes.fromhex(vectors[name])


def scripted(*draws: bytes) -> Callable[[int], bytes]:
    queue = list(draws)

    def rng(size: int) -> bytes:
        value = queue.pop(0)
        assert len(value) == size, f"asked for {size} random bytes, scripted {len(value)}"
        return value

    return rng


def test_mrz_information_and_bac_keys() -> None:
    assert mrz_information("L898902C", "690806", "940623") == D["MRZ_INFORMATION"]
    seed = bac_seed(D["MRZ_INFORMATION"])
    assert seed == h("KSEED")
    assert kdf(seed, ENC) == h("K_ENC")
    assert kdf(seed, MAC) == h("K_MAC")
    assert kdf(h("KSSEED"), ENC) == h("KS_ENC")
    assert kdf(h("KSSEED"), MAC) == h("KS_MAC")


def test_long_document_number() -> None:
    # A TD2 document number of more than nine characters is used whole.
    info = mrz_information("D23145890734", "340712", "950712")
    assert info == "D23145890734934071279507122"
    assert bac_seed(info).hex() == "b366ad857ddca2b08c0e299811714730"


def test_appendix_d_bac_and_secure_messaging() -> None:
    chip = PassportChip(
        ChipData(files={0x011E: h("EF_COM")}, mrz_information=D["MRZ_INFORMATION"]),
        rng=scripted(h("RND_IC"), h("K_IC")),
    )
    chip.power_on()
    assert chip.transmit(bytes.fromhex("00A4040C07A0000002471001")).hex() == "9000"
    assert chip.transmit(bytes.fromhex("0084000008")) == h("RND_IC") + b"\x90\x00"
    answer = chip.transmit(bytes.fromhex("0082000028") + h("CMD_DATA") + b"\x28")
    assert answer == h("RESP_DATA") + b"\x90\x00"
    assert chip.transmit(h("SELECT_C")) == h("SELECT_R")
    assert chip.transmit(h("READ4_C")) == h("READ4_R")
    assert chip.transmit(h("READ18_C")) == h("READ18_R")


def test_appendix_d_wrong_mrz_fails_bac() -> None:
    chip = PassportChip(
        ChipData(files={0x011E: h("EF_COM")}, mrz_information="L898902C<369080619406247"),
        rng=scripted(h("RND_IC"), h("K_IC")),
    )
    chip.transmit(bytes.fromhex("00A4040C07A0000002471001"))
    chip.transmit(bytes.fromhex("0084000008"))
    answer = chip.transmit(bytes.fromhex("0082000028") + h("CMD_DATA") + b"\x28")
    assert answer.hex() == "6300"
    # No session: the protected SELECT is refused.
    assert chip.transmit(h("SELECT_C")).hex() == "6882"


def test_pace_keys_of_appendix_g1() -> None:
    assert mrz_information("T22000129", "640812", "101031") == G1["MRZ_INFORMATION"]
    assert kdf(h("K", G1), PACE, CipherKind.AES128) == h("K_PI", G1)
    assert kdf(h("SHARED_SECRET", G1), ENC, CipherKind.AES128) == h("KS_ENC", G1)
    assert kdf(h("SHARED_SECRET", G1), MAC, CipherKind.AES128) == h("KS_MAC", G1)


@pytest.mark.parametrize("first", ["C1", "C1_WITH_PARAMETER_ID"])
def test_appendix_g1_pace(first: str) -> None:
    chip = PassportChip(
        ChipData(
            files={EF_CARD_ACCESS: h("CARD_ACCESS", G1)},
            mrz_information=G1["MRZ_INFORMATION"],
        ),
        rng=scripted(h("NONCE", G1), h("CHIP_MAPPING_KEY", G1), h("CHIP_KEY", G1)),
    )
    chip.power_on()
    assert chip.transmit(h(first, G1)).hex() == "9000"
    for step in range(2, 6):
        assert chip.transmit(h(f"C{step}", G1)) == h(f"R{step}", G1), f"step {step}"
    assert chip.secure
