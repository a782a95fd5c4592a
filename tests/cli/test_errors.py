"""User errors: one line naming what was wrong and what to do, exit code 2, nothing changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from authenticators.codeviser.seeds import SeedImport, write_pskc
from authenticators.otp import OtpParams
from tests.support import Emu, assert_user_error

B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def snapshot(state_dir: Path) -> list[str]:
    conn = sqlite3.connect(state_dir / "state.sqlite3")
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def ready(emu: Emu, tmp_path: Path) -> Emu:
    assert emu("codeviser", "new", "--name", "t1").exit_code == 0
    assert (
        emu(
            "identity", "create", "--user-id", "alice", "--name", "A", "--password", "pw-123456"
        ).exit_code
        == 0
    )
    assert (
        emu(
            "identity", "create", "--user-id", "carol", "--name", "C", "--password", "pw-123456"
        ).exit_code
        == 0
    )
    assert emu("codeviser", "new", "--name", "t2").exit_code == 0
    assert emu("identity", "add-authenticator", "carol", "codeviser", "t2").exit_code == 0
    login = [
        "login",
        "--user-id",
        "carol",
        "--method",
        "codeviser",
        "--press",
        "--password",
        "pw-123456",
    ]
    assert emu(*login).exit_code == 0  # every table exists, as in a state that has been used
    (tmp_path / "locked.pskc").write_bytes(write_pskc([SeedImport(bytes(20), OtpParams())], "pw"))
    (tmp_path / "broken.pskc").write_text("<KeyContainer")
    return emu


CASES = [
    (["codeviser", "verify", "nope", "123456"], ["no codeviser named 'nope'", "codeviser list"]),
    (["codeviser", "verify", "t1", "12345"], ["exactly 6 digits"]),
    (["codeviser", "verify", "t1", "１２３４５６"], ["exactly 6 digits"]),
    (["codeviser", "verify", "t1", "1234567"], ["exactly 6 digits"]),
    (["codeviser", "resync", "t1", "123456", "12345"], ["exactly 6 digits"]),
    (["codeviser", "code", "nope"], ["no codeviser named 'nope'"]),
    (["codeviser", "code", "t1", "--at", "-5"], ["--at"]),
    (["codeviser", "new", "--name", "t1"], ["exists already", "another --name"]),
    (["codeviser", "new", "--name", "bad name"], ["invalid token name"]),
    (["codeviser", "new", "--name", "x", "--digits", "7"], ["digits"]),
    (["codeviser", "new", "--name", "x", "--drift-ppm", "5000"], ["drift-ppm"]),
    (["codeviser", "import", "otpauth://totp/x?secret=!!", "--name", "x"], ["base32"]),
    (["codeviser", "import", "otpauth://hotp/x?secret=" + B32, "--name", "x"], ["totp"]),
    (["codeviser", "import", f"otpauth://totp/x?secret={B32}&digits=9", "--name", "x"], ["digits"]),
    (["codeviser", "import", "no-such-file.pskc", "--name", "x"], ["neither an otpauth"]),
    (["codeviser", "import", "{tmp}/broken.pskc", "--name", "x"], ["not a valid PSKC"]),
    (["codeviser", "import", "{tmp}/locked.pskc", "--name", "x"], ["password-protected", "--password"]),
    (["codeviser", "import", "{tmp}/locked.pskc", "--name", "x", "--password", "no"], ["wrong --password"]),
    (["codeviser", "export", "t1"], ["exactly one of --uri or --pskc"]),
    (["codeviser", "export", "t1", "--uri", "--password", "x"], ["--password goes with --pskc"]),
    (["codeviser", "export", "t1", "--pskc", "/nonexistent/dir/x.pskc"], ["cannot write"]),
    (["codeviser", "delete", "nope"], ["no codeviser named"]),
    (["identity", "create", "--user-id", "alice", "--name", "B"], ["taken"]),
    (["identity", "create", "--user-id", "x", "--name", "B"], ["invalid user ID"]),
    (["identity", "create", "--user-id", "bob", "--name", "B", "--cpr", "99"], ["CPR"]),
    (["identity", "create", "--user-id", "bob", "--name", "B", "--password", "short"], ["at least 8"]),
    (["identity", "show", "nobody"], ["no identity", "identity list"]),
    (["identity", "delete", "nobody"], ["no identity"]),
    (["identity", "add-authenticator", "alice", "codeviser", "nope"], ["no codeviser named"]),
    (["identity", "add-authenticator", "alice", "nfc", "x"], ["unknown authenticator kind"]),
    (["identity", "add-authenticator", "nobody", "codeviser", "t1"], ["no identity"]),
    (["identity", "password", "alice"], ["--password"]),
    (["login", "--user-id", "nobody", "--method", "codeviser"], ["no identity"]),
    (["login", "--user-id", "alice", "--method", "codeviser"], ["has no codeviser", "add-authenticator"]),
    (["login", "--user-id", "alice", "--method", "nfc"], ["unknown authenticator kind"]),
    (["login", "--user-id", "alice", "--method", "codeviser", "--code", "12a"], ["digits"]),
    (["login", "--user-id", "alice", "--method", "codeviser", "--reference-text", "x" * 131], ["131 characters"]),
    (["login", "--user-id", "carol", "--method", "codeviser", "--level", "high"], ["cannot reach level high"]),
    (["login", "--user-id", "carol", "--method", "codeviser", "--code", "1", "--press"], ["not both"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "words"),
    CASES,
    ids=lambda v: (
        " ".join(v)[:60]
        if isinstance(v, list) and v and v[0] in ("codeviser", "identity", "login")
        else ""
    ),
)
def test_user_errors(
    ready: Emu, state_dir: Path, tmp_path: Path, args: list[str], words: list[str]
) -> None:
    before = snapshot(state_dir)
    result = ready(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_user_error(result, *words)
    assert snapshot(state_dir) == before


def test_an_unusable_state_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = Emu(blocker / "sub")("codeviser", "list")
    assert_user_error(result, "cannot use state directory", "--state")


def test_a_database_from_the_future(emu: Emu, state_dir: Path) -> None:
    emu("codeviser", "list")
    conn = sqlite3.connect(state_dir / "state.sqlite3")
    conn.execute("UPDATE schema_versions SET version = 99 WHERE namespace = 'code_tokens'")
    conn.commit()
    conn.close()
    assert_user_error(emu("codeviser", "list"), "newer mitid-emulator")
