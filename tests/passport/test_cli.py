"""``mitid-emu passport …`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from tests.support import Emu, assert_user_error

ANNE = ["--surname", "Hansen", "--given-names", "Anne Marie", "--birth", "1990-01-02"]


def test_new_list_show_read_delete(emu: Emu, tmp_path: Path) -> None:
    page = tmp_path / "page.png"
    made = emu("passport", "new", *ANNE, "--sex", "F", "--page", str(page), "--json")
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)
    assert summary["name"] == "anne-hansen"
    assert summary["uri"] == "passport:sim:anne-hansen"
    assert summary["mrz"][0].startswith("P<DNKHANSEN<<ANNE<MARIE<")
    with Image.open(page) as image:
        assert image.format == "PNG"
    assert "anne-hansen" in emu("passport", "list").stdout
    assert summary["mrz"][1] in emu("passport", "show", "anne-hansen").stdout
    read = emu("passport", "read", "anne-hansen", "--json", "--face-out", str(tmp_path / "f"))
    assert read.exit_code == 0, read.output
    checked = json.loads(read.stdout)
    assert checked["access"] == "PACE"
    assert [s["step"] for s in checked["steps"]] == [
        "access_control",
        "chip_authentication",
        "passive_authentication",
        "active_authentication",
    ]
    bac = json.loads(emu("passport", "read", "anne-hansen", "--bac", "--json").stdout)
    assert bac["access"] == "BAC"
    by_can = emu("passport", "read", "anne-hansen", "--can", summary["can"])
    assert by_can.exit_code == 0, by_can.output
    assert "PACE with the CAN" in by_can.stdout
    wrong = "0" * 6 if summary["can"] != "0" * 6 else "1" * 6
    assert emu("passport", "read", "anne-hansen", "--can", wrong).exit_code == 1
    assert_user_error(emu("passport", "read", "anne-hansen", "--can", "12"), "six digits")
    with Image.open(tmp_path / "f") as face:
        assert face.format == "JPEG"
    assert emu("passport", "delete", "anne-hansen").exit_code == 0
    assert_user_error(emu("passport", "show", "anne-hansen"), "no passport named")


def test_read_refusals(emu: Emu) -> None:
    assert emu("passport", "new", "--name", "t", *ANNE, "--tampered").exit_code == 0
    refused = emu("passport", "read", "t")
    assert refused.exit_code == 1
    assert "passive_authentication_failed" in refused.stderr
    assert "FAIL passive_authentication" in refused.stdout
    mrz = "".join(json.loads(emu("passport", "show", "t", "--json").stdout)["mrz"])
    wrong = mrz[:57] + ("1" if mrz[57] != "1" else "2") + mrz[58:]  # the birth date's check digit
    assert_user_error(emu("passport", "read", "t", "--mrz", wrong), "check digits")


def test_usage_errors(emu: Emu) -> None:
    assert_user_error(emu("passport", "new", *ANNE[:-1], "1990-13-01"), "birth date")
    assert_user_error(emu("passport", "new", *ANNE, "--nationality", "DK"), "three letters")
    assert emu("passport", "new", *ANNE).exit_code == 0
    assert_user_error(emu("passport", "new", *ANNE), "exists")
    assert_user_error(emu("passport", "read", "nfc:1"), "unknown passport URI|--mrz")
    assert_user_error(emu("passport", "read", "pcsc:nothing", "--mrz", "x"), "MRZ")
