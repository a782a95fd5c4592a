"""A state with passports issued once per module (issuing makes keys and signs: done once)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from firmware_sim.passport import faces
from tests.support import Emu

ANNE = ["--surname", "Hansen", "--given-names", "Anne Marie", "--birth", "1990-01-02"]
BO = ["--surname", "Berg", "--given-names", "Bo", "--birth", "1985-06-07"]


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("issued") / "state"
    emu = Emu(state)
    for name, person, flags in [
        ("anne", ANNE, []),
        ("bo", BO, []),
        ("anne-expired", ANNE, ["--expired"]),
        ("anne-clone", ANNE, ["--clone"]),
        ("anne-tampered", ANNE, ["--tampered"]),
        ("anne-old-signer", ANNE, ["--expired-signer"]),
        ("sven", [*BO[:2], "--given-names", "Sven", "--birth", "1970-03-04"], []),
    ]:
        extra = ["--nationality", "SWE"] if name == "sven" else []
        result = emu("passport", "new", "--name", name, *person, *flags, *extra)
        assert result.exit_code == 0, result.output
    return state


@pytest.fixture
def emu(issued: Path, tmp_path: Path) -> Emu:
    """A copy of the issued state for one test: what it registers stays its own."""
    state = tmp_path / "state"
    shutil.copytree(issued, state)
    return Emu(state)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Camera shots: another picture of each person than the one in their passport."""
    folder = tmp_path_factory.mktemp("faces")
    shots = {}
    for key, seed in [("anne", "Anne Marie Hansen 1990-01-02"), ("bo", "Bo Berg 1985-06-07")]:
        shots[key] = folder / f"{key}.png"
        shots[key].write_bytes(faces.face(seed, variant=7))
    shots["sven"] = folder / "sven.png"
    shots["sven"].write_bytes(faces.face("Sven Berg 1970-03-04", variant=7))
    shots["junk"] = folder / "junk.png"
    shots["junk"].write_bytes(b"not an image")
    return shots
