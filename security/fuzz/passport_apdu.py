"""Command APDUs into the simulated passport chip, inside the secure-messaging session of
ICAO 9303-11 Appendix D (so the appendix's protected commands are valid seeds).

The input is a sequence of APDUs, each prefixed by its length in one byte. Rules: every answer
ends in a status word the chip defines, never "no precise diagnosis" (an escaped bug), and a
refusal outside secure messaging carries no data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric import ec

from firmware_sim.passport.apdu import SW
from firmware_sim.passport.chip import EF_CARD_ACCESS, ChipData, PassportChip
from security.fuzz import FuzzFailure

MRZ_INFORMATION = "L898902C<369080619406236"
EF_COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")
CARD_ACCESS = bytes.fromhex("31143012060A04007F0007020204020202010202010D")
RND_IC = bytes.fromhex("4608F91988702212")
K_IC = bytes.fromhex("0B4F80323EB3191CB04970CB4052790B")
BAC = bytes.fromhex(
    "008200002872C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A728"
)
KNOWN = frozenset(int(sw) for sw in SW) - {int(SW.NO_DIAGNOSIS)}
SUCCESS = frozenset({int(SW.OK), int(SW.END_OF_FILE)})


def _random() -> Iterator[bytes]:
    yield RND_IC
    yield K_IC
    counter = 0
    while True:
        counter += 1
        yield hashlib.sha256(counter.to_bytes(8, "big")).digest()


def session_chip() -> PassportChip:
    """A chip in the Appendix D session (SSC 887022120C06C226)."""
    draws = _random()
    chip = PassportChip(
        ChipData(
            files={0x011E: EF_COM, EF_CARD_ACCESS: CARD_ACCESS},
            mrz_information=MRZ_INFORMATION,
            can="123456",
            aa_key=ec.derive_private_key(0xAA, ec.SECP256R1()),
            ca_key=ec.derive_private_key(0xCA, ec.SECP256R1()),
        ),
        rng=lambda size: next(draws)[:size].ljust(size, b"\x01"),
    )
    chip.power_on()
    chip.transmit(bytes.fromhex("00A4040C07A0000002471001"))
    chip.transmit(bytes.fromhex("0084000008"))
    if chip.transmit(BAC)[-2:] != b"\x90\x00":
        raise FuzzFailure("the Appendix D BAC failed")
    return chip


def split(data: bytes) -> Iterator[bytes]:
    offset = 0
    while offset < len(data):
        size = data[offset]
        yield data[offset + 1 : offset + 1 + size]
        offset += 1 + size


def one_input(data: bytes) -> None:
    chip = session_chip()
    for apdu in split(data):
        secure = chip.secure
        answer = chip.transmit(apdu)
        if not isinstance(answer, bytes) or len(answer) < 2:
            raise FuzzFailure(f"not an APDU answer: {answer!r}")
        sw = int.from_bytes(answer[-2:], "big")
        if sw not in KNOWN:
            raise FuzzFailure(f"status word {sw:04X}")
        if sw not in SUCCESS and len(answer) > 2 and not (secure and apdu[:1] in (b"\x0c",)):
            raise FuzzFailure(f"a refusal {sw:04X} with data outside secure messaging")
