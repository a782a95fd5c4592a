"""Reading and checking simulated passports end to end over the APDU transport: access control,
Chip Authentication, the data groups, Passive and Active Authentication, and every refusal."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from authenticators.icao9303 import tlv
from authenticators.passport.check import read_passport
from authenticators.passport.errors import PassportError, PassportErrorCode
from authenticators.passport.reader import PassportReader
from authenticators.passport.sims import SimPassports
from authenticators.passport.transport import open_transport
from firmware_sim.passport import issuer


def _read(sims: SimPassports, name: str, now: dt.datetime, **options: object) -> object:
    steps: list[tuple[str, bool, str]] = []
    transport = open_transport(f"passport:sim:{name}", sims.chip)
    mrz = options.pop("mrz", sims.get(name).passport.mrz_information)
    try:
        result = read_passport(
            transport,
            str(mrz),
            cscas=sims.cscas(),
            now=now,
            on_step=lambda *step: steps.append(step),
            **options,  # type: ignore[arg-type]
        )
    finally:
        options["steps"] = steps
    return result, steps


def test_a_good_passport_passes_every_check(sims: SimPassports, now: dt.datetime) -> None:
    result, steps = _read(sims, "anne", now)
    assert [(name, ok) for name, ok, _ in steps] == [
        ("access_control", True),
        ("chip_authentication", True),
        ("passive_authentication", True),
        ("active_authentication", True),
    ]
    assert result.access == "PACE"  # type: ignore[attr-defined]
    assert result.mrz.name == "ANNE MARIE HANSEN"  # type: ignore[attr-defined]
    assert result.mrz.lines == sims.get("anne").passport.mrz  # type: ignore[attr-defined]
    assert result.passive.groups == (1, 2, 14, 15)  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(result.face_image)) as image:  # type: ignore[attr-defined]
        assert image.format == "JPEG"


def test_bac_when_pace_is_not_used(sims: SimPassports, now: dt.datetime) -> None:
    result, _ = _read(sims, "anne", now, pace=False)
    assert result.access == "BAC"  # type: ignore[attr-defined]
    assert result.active_authentication  # type: ignore[attr-defined]


@pytest.mark.parametrize(("pace", "code"), [(True, "pace_failed"), (False, "bac_failed")])
def test_a_wrong_mrz_fails_access_control_clearly(
    sims: SimPassports, now: dt.datetime, pace: bool, code: str
) -> None:
    right = sims.get("anne").passport
    wrong = right.mrz_information[:-1] + str((int(right.mrz_information[-1]) + 1) % 10)
    with pytest.raises(PassportError) as caught:
        _read(sims, "anne", now, mrz=wrong, pace=pace)
    assert caught.value.code.value == code
    assert "check the document number, birth date and expiry date" in caught.value.message


def test_a_cloned_chip_fails_chip_authentication(sims: SimPassports, now: dt.datetime) -> None:
    with pytest.raises(PassportError) as caught:
        _read(sims, "clone", now)
    assert caught.value.code is PassportErrorCode.CHIP_AUTHENTICATION


def test_a_cloned_chip_fails_active_authentication(sims: SimPassports, now: dt.datetime) -> None:
    from authenticators.passport import lds

    reader = PassportReader(open_transport("passport:sim:clone", sims.chip))
    reader.select_application()
    reader.bac(sims.get("clone").passport.mrz_information)
    key = lds.dg15_key(reader.read_file(0x010F))
    with pytest.raises(PassportError) as caught:
        reader.active_authentication(key)
    assert caught.value.code is PassportErrorCode.ACTIVE_AUTHENTICATION
    # The same data groups on the genuine chip pass.
    genuine = PassportReader(open_transport("passport:sim:anne", sims.chip))
    genuine.select_application()
    genuine.bac(sims.get("anne").passport.mrz_information)
    genuine.active_authentication(lds.dg15_key(genuine.read_file(0x010F)))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("tampered", "DG1 does not match its hash in EF.SOD"),
        ("old-signer", "the document signer certificate expired on"),
    ],
)
def test_passive_authentication_refusals(
    sims: SimPassports, now: dt.datetime, name: str, reason: str
) -> None:
    with pytest.raises(PassportError) as caught:
        _read(sims, name, now)
    assert caught.value.code is PassportErrorCode.PASSIVE_AUTHENTICATION
    assert reason in caught.value.message


def test_an_untrusted_country_fails_passive_authentication(
    sims: SimPassports, now: dt.datetime
) -> None:
    other = issuer.new_pki("SWE", now)
    transport = open_transport("passport:sim:anne", sims.chip)
    with pytest.raises(PassportError, match="no trusted CSCA"):
        read_passport(
            transport,
            sims.get("anne").passport.mrz_information,
            cscas=[other.csca_cert],
            now=now,
        )


def test_the_expired_passport_reads_but_says_so(sims: SimPassports, now: dt.datetime) -> None:
    result, _ = _read(sims, "expired", now)
    assert result.mrz.expiry_date() < now.date()  # type: ignore[attr-defined]


def test_unknown_uris_and_names(sims: SimPassports) -> None:
    with pytest.raises(PassportError, match="unknown passport URI"):
        open_transport("nfc:0", sims.chip)
    with pytest.raises(PassportError, match="no passport named"):
        open_transport("passport:sim:nobody", sims.chip)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is a Debian base tool")
@pytest.mark.parametrize("name", ["anne", "tampered", "old-signer"])
def test_every_sod_verifies_with_openssl(sims: SimPassports, name: str, tmp_path: Path) -> None:
    """EF.SOD checked by code nobody here wrote: ``openssl cms -verify`` against the CSCA."""
    passport = sims.get(name).passport
    _, sod, _ = tlv.read_tlv(passport.files[0x011D])
    (tmp_path / "sod.der").write_bytes(sod)
    (tmp_path / "csca.pem").write_bytes(sims.pki("DNK").csca_cert)
    args = ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sod.der")]
    args += ["-CAfile", str(tmp_path / "csca.pem"), "-out", str(tmp_path / "content")]
    if name == "old-signer":
        # openssl agrees the signer has expired, and that all else holds.
        expired = subprocess.run(args, capture_output=True, text=True, check=False)
        assert expired.returncode != 0
        assert "certificate has expired" in expired.stderr
        args.append("-no_check_time")
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    other = issuer.new_pki("DNK", dt.datetime.now(dt.UTC))
    (tmp_path / "other.pem").write_bytes(other.csca_cert)
    args[args.index(str(tmp_path / "csca.pem"))] = str(tmp_path / "other.pem")
    refused = subprocess.run(args, capture_output=True, text=True, check=False)
    assert refused.returncode != 0


def test_pace_on_p256_and_with_the_can(sims: SimPassports) -> None:
    from authenticators.icao9303.crypto import PACE, CipherKind, kdf

    # A third-party vector (not in ICAO's text): CAN 123456 -> K_pi.
    assert kdf(b"123456", PACE, CipherKind.AES128).hex() == "591468cda83d65219cccb8560233600f"
    passport = sims.get("anne").passport
    for options in ({"parameter_id": 12, "send_parameter_id": True}, {"can": True}):
        reader = PassportReader(open_transport("passport:sim:anne", sims.chip))
        secret = passport.can if options.get("can") else passport.mrz_information
        reader.pace(secret, **options)  # type: ignore[arg-type]
        reader.select_application()
        assert reader.read_file(0x0101)[:2] == b"\x61\x5b"
    wrong = PassportReader(open_transport("passport:sim:anne", sims.chip))
    with pytest.raises(PassportError, match="PACE failed"):
        wrong.pace("000000", can=True)


@pytest.mark.parametrize("access", ["bac", "pace"])
def test_chip_authentication_with_3des_and_aes(sims: SimPassports, access: str) -> None:
    from authenticators.icao9303 import oids
    from authenticators.passport import lds

    for protocol in (oids.ID_CA_ECDH_3DES, oids.ID_CA_ECDH_AES128):
        reader = PassportReader(open_transport("passport:sim:anne", sims.chip))
        mrz = sims.get("anne").passport.mrz_information
        if access == "bac":
            reader.select_application()
            reader.bac(mrz)
        else:
            reader.pace(mrz)
            reader.select_application()
        infos = lds.dg14_infos(reader.read_file(0x010E))
        assert infos.chip_authentication_protocol == oids.ID_CA_ECDH_AES128
        assert infos.chip_authentication_key is not None
        reader.chip_authentication(infos.chip_authentication_key, protocol)
        assert reader.read_file(0x011E)[:1] == b"\x60"  # under the new keys


def test_rsa_active_authentication(sims: SimPassports, now: dt.datetime) -> None:
    """ISO/IEC 9796-2 scheme 1 signatures from an RSA chip; its clone cannot make them."""
    from tests.passport.conftest import HOLDER

    for name, clone in (("rsa", False), ("rsa-clone", True)):
        sims.new(name, photo=sims.get("anne").passport.holder.photo, clone=clone,
                 active_authentication="rsa", **HOLDER)  # type: ignore[arg-type]  # fmt: skip
    result, steps = _read(sims, "rsa", now, pace=False)
    assert result.active_authentication  # type: ignore[attr-defined]
    assert steps[-1][:2] == ("active_authentication", True)
    from authenticators.passport import lds

    reader = PassportReader(open_transport("passport:sim:rsa-clone", sims.chip))
    reader.select_application()
    reader.bac(sims.get("rsa-clone").passport.mrz_information)
    key = lds.dg15_key(reader.read_file(0x010F))
    with pytest.raises(PassportError) as caught:
        reader.active_authentication(key)
    assert caught.value.code is PassportErrorCode.ACTIVE_AUTHENTICATION
