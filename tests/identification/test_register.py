"""Self-registration and enrolment through the CLI, end to end: passport, chip, face, identity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authenticators.clock import SystemClock
from authenticators.passport.sims import SimPassports
from authenticators.store import Store
from firmware_sim.passport.issuer import mrz_lines
from tests.support import Emu, assert_user_error

PROOFING_STEPS = [
    "proofing.started",
    "proofing.mrz",
    "proofing.access_control",
    "proofing.chip_authentication",
    "proofing.passive_authentication",
    "proofing.active_authentication",
    "proofing.document",
    "proofing.face",
    "proofing.completed",
]


def _audit(emu: Emu) -> list[dict[str, object]]:
    result = emu("audit", "--json", "--limit", "200")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def _users(emu: Emu) -> list[str]:
    return [i["user_id"] for i in json.loads(emu("identity", "list", "--json").stdout)]


def test_register_creates_an_identity_and_an_activated_app(
    emu: Emu, photos: dict[str, Path]
) -> None:
    result = emu(
        "identification", "register", "--passport", "anne", "--face", str(photos["anne"]),
        "--user-id", "anne.h", "--pin", "135790", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["ial"] == "high"
    assert done["name"] == "Anne Marie Hansen"
    assert done["birthdate"] == "1990-01-02"
    assert len(done["activation_code"]) == 9
    apps = json.loads(emu("app", "list", "--user-id", "anne.h", "--json").stdout)
    assert [(a["app_id"], a["level"], a["status"]) for a in apps] == [
        (done["app_id"], "high", "active")
    ]
    events = [row for row in _audit(emu) if row["transaction_id"] == done["proofing_id"]]
    assert [row["event"] for row in events] == [*PROOFING_STEPS, "identification.registered"]
    assert all(row["reason"] == "ok" for row in events)
    text = json.dumps(events)
    for secret in (*SimPassports(Store(emu.state_dir), SystemClock()).get("anne").passport.mrz,):
        assert secret not in text  # the MRZ (the chip's access key) is never logged


def test_enroll_more_identifiers_after_proofing_again(emu: Emu, photos: dict[str, Path]) -> None:
    registered = emu(
        "identification", "register", "--passport", "anne", "--face", str(photos["anne"]),
        "--user-id", "anne.h", "--pin", "135790",
    )  # fmt: skip
    assert registered.exit_code == 0, registered.output
    assert "activation code (would arrive by SMS):" in registered.stdout
    for kind, extra in [("codeviser", []), ("app", ["--pin", "246813"])]:
        result = emu(
            "identification", "enroll", "--passport", "anne", "--face", str(photos["anne"]),
            "--user-id", "anne.h", "--kind", kind, *extra,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    shown = json.loads(emu("identity", "show", "anne.h", "--json").stdout)
    kinds = sorted(a["kind"] for a in shown["authenticators"])
    assert kinds == ["app", "app", "codeviser"]
    # Bo's passport and face do not prove Anne.
    other = emu(
        "identification", "enroll", "--passport", "bo", "--face", str(photos["bo"]),
        "--user-id", "anne.h", "--kind", "codeviser", "--name", "bo-token",
    )  # fmt: skip
    assert other.exit_code == 1
    assert "identity_mismatch" in other.stderr
    assert "bo-token" not in emu("codeviser", "list").stdout


def test_the_ra_app_records_the_employee(emu: Emu, photos: dict[str, Path]) -> None:
    result = emu(
        "identification", "ra", "register", "--operator", "ra-4711", "--passport", "bo",
        "--face", str(photos["bo"]), "--user-id", "bo.berg", "--pin", "135790",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [r for r in _audit(emu) if r["user_id"] == "bo.berg"]
    assert rows
    assert all(str(r["detail"]).startswith("ra operator ra-4711: ") for r in rows)


def _wrong_mrz(emu: Emu) -> str:
    """A well-formed MRZ of the same person with another expiry: the chip refuses its keys."""
    passport = SimPassports(Store(emu.state_dir), SystemClock()).get("anne").passport
    holder = passport.holder
    changed = type(holder)(**{**holder.__dict__, "expiry": holder.expiry.replace(day=1)})
    return "".join(mrz_lines(changed, passport.document_number))


@pytest.mark.parametrize(
    ("passport", "face", "extra", "reason", "words"),
    [
        ("anne", "anne", ["--mrz", "P<DNK" + "<" * 83], "invalid_mrz", "check digits"),
        ("anne", "anne", ["WRONG-MRZ"], "access_control_failed", "check the document number"),
        ("anne-expired", "anne", [], "document_expired", "expired on"),
        ("anne-clone", "anne", [], "chip_authentication_failed", "cloned chip"),
        ("anne-tampered", "anne", [], "passive_authentication_failed", "DG1 does not match"),
        ("anne-old-signer", "anne", [], "passive_authentication_failed", "signer certificate"),
        ("anne", "bo", [], "face_mismatch", "does not match the passport photo"),
        ("anne", "anne", ["--face-outcome", "no_liveness"], "no_liveness", "no live person"),
        (
            "anne",
            "anne",
            ["--face-outcome", "presentation_attack"],
            "presentation_attack",
            "presentation attack",
        ),
        ("sven", "sven", [], "document_not_accepted", "needs a CPR number"),
        ("anne", "junk", [], "invalid_image", "not an image"),
    ],
)
def test_refusals_create_nothing(
    emu: Emu,
    photos: dict[str, Path],
    passport: str,
    face: str,
    extra: list[str],
    reason: str,
    words: str,
) -> None:
    if extra == ["WRONG-MRZ"]:
        extra = ["--mrz", _wrong_mrz(emu)]
    result = emu(
        "identification", "register", "--passport", passport, "--face", str(photos[face]),
        "--user-id", "someone", "--pin", "135790", *extra,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert f"Refused: {reason}: " in result.stderr
    assert words in result.stderr
    assert "Nothing was created" in result.stderr
    assert "someone" not in _users(emu)
    assert json.loads(emu("app", "list", "--json").stdout) == []
    last = _audit(emu)[-1]
    assert (last["event"], last["reason"]) == ("proofing.refused", reason)


def test_usage_errors(emu: Emu, photos: dict[str, Path]) -> None:
    base = ["identification", "register", "--face", str(photos["anne"]), "--pin", "135790"]
    assert_user_error(emu(*base, "--passport", "nobody", "--user-id", "x.y.z"), "no passport")
    assert_user_error(emu(*base, "--passport", "anne", "--user-id", "a"), "invalid user ID")
    assert_user_error(emu(*base[:-1], "12", "--passport", "anne", "--user-id", "abc"), "PIN")
    emu(*base, "--passport", "anne", "--user-id", "taken")
    assert_user_error(emu(*base, "--passport", "anne", "--user-id", "taken"), "taken")
    assert_user_error(emu(*base, "--passport", "pcsc:none", "--user-id", "abc"), "--mrz")
