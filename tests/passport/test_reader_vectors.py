"""The reader against ICAO 9303-11's worked examples: every command it sends, byte for byte."""

from __future__ import annotations

from authenticators.passport.reader import PassportReader
from firmware_sim.passport.chip import EF_CARD_ACCESS, ChipData, PassportChip
from tests.firmware_sim.passport.test_icao_vectors import G1, D, h, scripted


class Recording:
    uri = "test:"

    def __init__(self, chip: PassportChip) -> None:
        self.chip = chip
        self.sent: list[str] = []
        self.received: list[str] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu.hex().upper())
        answer = self.chip.transmit(apdu)
        self.received.append(answer.hex().upper())
        return answer

    def close(self) -> None:
        return None


def test_appendix_d_reader() -> None:
    chip = PassportChip(
        ChipData(files={0x011E: h("EF_COM")}, mrz_information=D["MRZ_INFORMATION"]),
        rng=scripted(h("RND_IC"), h("K_IC")),
    )
    link = Recording(chip)
    reader = PassportReader(link, rng=scripted(h("RND_IFD"), h("K_IFD")))
    reader.select_application()
    reader.bac(D["MRZ_INFORMATION"])
    assert link.sent[2] == "0082000028" + D["CMD_DATA"] + "28"
    assert reader.read_file(0x011E) == h("EF_COM")
    assert link.sent[3:] == [D["SELECT_C"], D["READ4_C"], D["READ18_C"]]
    assert link.received[3:] == [D["SELECT_R"], D["READ4_R"], D["READ18_R"]]


def test_appendix_g1_reader() -> None:
    chip = PassportChip(
        ChipData(
            files={EF_CARD_ACCESS: h("CARD_ACCESS", G1)},
            mrz_information=G1["MRZ_INFORMATION"],
        ),
        rng=scripted(h("NONCE", G1), h("CHIP_MAPPING_KEY", G1), h("CHIP_KEY", G1)),
    )
    link = Recording(chip)
    reader = PassportReader(link, rng=scripted(h("READER_MAPPING_KEY", G1), h("READER_KEY", G1)))
    reader.pace(G1["MRZ_INFORMATION"], send_parameter_id=False)
    assert link.sent == [G1[f"C{n}"] for n in range(1, 6)]
    assert link.received == [G1[f"R{n}"] for n in range(1, 6)]
    assert reader.access == "PACE"
