"""One passport read and checked from start to end, as an inspection system does it:
access control (PACE when the chip offers it, else BAC), Chip Authentication, the data groups,
Passive Authentication, Active Authentication. Each step is reported as it ends."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from authenticators.icao9303 import lds as lds_files
from authenticators.icao9303 import oids
from authenticators.icao9303.ecc import CURVES_BY_PARAMETER_ID
from authenticators.passport import lds
from authenticators.passport.errors import PassportError, PassportErrorCode
from authenticators.passport.pa import PassiveAuthentication, passive_authentication
from authenticators.passport.reader import PassportReader, Random
from authenticators.passport.transport import ApduTransport

#: step name, passed, detail (never a secret: no MRZ, no keys)
StepReport = Callable[[str, bool, str], None]


@dataclass(frozen=True)
class CheckedPassport:
    access: str
    mrz: lds.Mrz
    face_image: bytes = field(repr=False)
    groups: tuple[int, ...]
    passive: PassiveAuthentication
    chip_authentication: bool
    active_authentication: bool


def _ignore(step: str, ok: bool, detail: str) -> None:
    return None


def read_passport(
    transport: ApduTransport,
    mrz_information: str,
    *,
    cscas: Sequence[bytes],
    now: dt.datetime,
    on_step: StepReport = _ignore,
    rng: Random = secrets.token_bytes,
    pace: bool = True,
    can: str | None = None,
) -> CheckedPassport:
    """Read and check a passport; ``can`` opens it by PACE with the card access number
    instead of the MRZ (the chip must offer PACE)."""
    reader = PassportReader(transport, rng=rng)

    def step(name: str, action: Callable[[], str]) -> None:
        try:
            detail = action()
        except PassportError as exc:
            on_step(name, False, exc.message)
            raise
        on_step(name, True, detail)

    def access() -> str:
        card_access = reader.read_card_access() if pace else None
        offered = lds.pace_parameters(card_access) if card_access else []
        usable = [p for p in offered if p in CURVES_BY_PARAMETER_ID]
        if usable:
            chosen = 13 if 13 in usable else usable[0]
            if can is not None:
                reader.pace(can, can=True, parameter_id=chosen)
            else:
                reader.pace(mrz_information, parameter_id=chosen)
            reader.select_application()
        elif can is not None:
            raise PassportError(
                PassportErrorCode.INVALID_ARGUMENT,
                "the chip offers no PACE, so no CAN: use the MRZ",
            )
        else:
            reader.select_application()
            reader.bac(mrz_information)
        return f"{reader.access} with the {'CAN' if can is not None and usable else 'MRZ'}"

    step("access_control", access)
    files: dict[int, bytes] = {}

    def read_groups(numbers: Sequence[int]) -> None:
        for number in numbers:
            fid = lds_files.DATA_GROUPS[number][0]
            files[number] = reader.read_file(fid)

    com = reader.read_file(lds_files.EF_COM[0])
    present = lds.com_groups(com)
    for required in (1, 2):
        if required not in present:
            raise PassportError(PassportErrorCode.MALFORMED, f"the chip has no DG{required}")
    chip_auth = False
    if 14 in present:
        read_groups([14])
        infos = lds.dg14_infos(files[14])
        if infos.chip_authentication_key is not None:
            key = infos.chip_authentication_key
            protocol = infos.chip_authentication_protocol

            def chip_authenticate() -> str:
                reader.chip_authentication(key, protocol)
                cipher = "AES" if protocol == oids.ID_CA_ECDH_AES128 else "3DES"
                return f"the chip holds DG14's private key; secure messaging restarted ({cipher})"

            step("chip_authentication", chip_authenticate)
            chip_auth = True
    read_groups([n for n in present if n in lds_files.DATA_GROUPS and n not in files])
    sod = reader.read_file(lds_files.EF_SOD[0])
    mrz = lds.dg1_mrz(files[1])
    holder: list[PassiveAuthentication] = []

    def passive() -> str:
        holder.append(passive_authentication(sod, files, cscas, now))
        checked = ", ".join(f"DG{n}" for n in holder[0].groups)
        return f"signed by {holder[0].signer} under {holder[0].csca}; {checked} match"

    step("passive_authentication", passive)
    active = False
    if 15 in files:

        def active_authenticate() -> str:
            reader.active_authentication(lds.dg15_key(files[15]))
            return "the chip signed our challenge with DG15's key"

        step("active_authentication", active_authenticate)
        active = True
    return CheckedPassport(
        access=reader.access or "",
        mrz=mrz,
        face_image=lds.dg2_image(files[2]),
        groups=tuple(sorted(files)),
        passive=holder[0],
        chip_authentication=chip_auth,
        active_authentication=active,
    )
