"""What a newcomer trips over: short seeds, linked tokens, long names, usage errors, file modes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from pathlib import Path

import pytest

from authenticators.codeviser.seeds import SeedImport, write_pskc
from authenticators.otp import OtpParams
from authenticators.server.state_clock import StateClock
from authenticators.store import Store
from tests.support import T0, Emu, assert_user_error

PASSWORD = "correct horse battery"
SHORT_SECRET = "JBSWY3DPEHPK3PXP"  # 10 bytes: the most copied example secret there is


def totp(seed: bytes, at: float) -> str:
    """RFC 6238 with SHA-1, 6 digits, 30 s, written out here (pyotp refuses 80-bit seeds)."""
    mac = hmac.new(seed, int(at // 30).to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def as_json(result: object) -> dict[str, object]:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data: dict[str, object] = json.loads(result.stdout)  # type: ignore[attr-defined]
    return data


# -- 1: one seed-length rule, and the token works with every seed it lets in -------------------


@pytest.mark.parametrize("size", [10, 13])
@pytest.mark.parametrize("kind", ["codeviser", "kodeoplaeser"])
def test_a_short_seed_is_taken_with_a_warning_and_the_token_works(
    emu: Emu, kind: str, size: int
) -> None:
    seed = bytes(range(1, size + 1))
    secret = base64.b32encode(seed).decode().rstrip("=")
    imported = emu(kind, "import", f"otpauth://totp/MitID:t?secret={secret}", "--name", "t")
    assert imported.exit_code == 0, imported.output
    warning = [line for line in imported.stderr.splitlines() if line.strip()]
    assert len(warning) == 1, imported.stderr
    assert "RFC 4226" in warning[0]
    assert "128 bits" in warning[0]
    shown = as_json(emu(kind, "code", "t", "--at", str(T0), "--json"))
    assert shown["code"] == totp(seed, T0)
    verified = emu(kind, "verify", "t", totp(seed, T0), "--at", str(T0))
    assert verified.exit_code == 0, verified.output


def test_the_famous_example_secret_gives_its_known_codes(emu: Emu) -> None:
    uri = f"otpauth://totp/MitID:t?secret={SHORT_SECRET}"
    assert emu("codeviser", "import", uri, "--name", "t").exit_code == 0
    seed = base64.b32decode(SHORT_SECRET)
    assert as_json(emu("codeviser", "code", "t", "--at", "59", "--json"))["code"] == totp(seed, 59)


def test_a_full_length_seed_has_no_warning(emu: Emu) -> None:
    secret = base64.b32encode(bytes(20)).decode()
    result = emu("codeviser", "import", f"otpauth://totp/MitID:t?secret={secret}", "--name", "t")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_seed_under_80_bits_is_refused_at_every_entry(emu: Emu, tmp_path: Path) -> None:
    secret = base64.b32encode(bytes(9)).decode().rstrip("=")
    result = emu("codeviser", "import", f"otpauth://totp/MitID:t?secret={secret}", "--name", "t")
    assert_user_error(result, "72 bits", "at least 80 bits")
    pskc = tmp_path / "short.pskc"
    pskc.write_bytes(write_pskc([SeedImport(bytes(9), OtpParams(), "S1")]))
    assert_user_error(emu("codeviser", "import", str(pskc), "--name", "t"), "at least 80 bits")


def test_a_short_seed_from_a_pskc_file_is_taken_with_the_warning(emu: Emu, tmp_path: Path) -> None:
    pskc = tmp_path / "short.pskc"
    pskc.write_bytes(write_pskc([SeedImport(bytes(range(10)), OtpParams(), "S1")]))
    result = emu("codeviser", "import", str(pskc), "--name", "t")
    assert result.exit_code == 0, result.output
    assert "RFC 4226" in result.stderr
    assert as_json(emu("codeviser", "code", "t", "--json"))["code"]


# -- 2: a token an identity uses is not deleted from under it ----------------------------------


def test_a_linked_token_is_not_deleted_and_the_hint_works(emu: Emu) -> None:
    assert emu("codeviser", "new", "--name", "my-token").exit_code == 0
    created = emu("identity", "create", "--user-id", "alice", "--name", "A", "--password", PASSWORD)
    assert created.exit_code == 0
    assert emu("identity", "add-authenticator", "alice", "codeviser", "my-token").exit_code == 0
    refused = emu("codeviser", "delete", "my-token")
    assert_user_error(refused, "belongs to alice", "remove-authenticator alice codeviser my-token")
    assert "codeviser my-token" in emu("identity", "show", "alice").stdout
    assert emu("identity", "remove-authenticator", "alice", "codeviser", "my-token").exit_code == 0
    assert emu("codeviser", "delete", "my-token").exit_code == 0
    assert "methods:   none" in emu("identity", "show", "alice").stdout


# -- 4: a path the system will not take is a user error ----------------------------------------


def test_a_file_name_too_long_is_one_line(emu: Emu, tmp_path: Path) -> None:
    long = str(tmp_path / ("x" * 300))
    assert emu("codeviser", "new", "--name", "t").exit_code == 0
    assert_user_error(emu("codeviser", "export", "t", "--pskc", long), "cannot write")
    assert emu("kodeoplaeser", "new", "--name", "r").exit_code == 0
    assert_user_error(emu("kodeoplaeser", "speak", "r", "--out", long + ".wav"), "cannot write")
    assert_user_error(emu("kodeoplaeser", "repeat", "r", "--out", long + ".wav"), "cannot write")
    created = emu("identity", "create", "--user-id", "ann", "--name", "A", "--password", PASSWORD)
    assert created.exit_code == 0
    enrolled = emu("app", "enroll", "--user-id", "ann", "--pin", "246810")
    assert enrolled.exit_code == 0, enrolled.output
    login = emu("login", "--user-id", "ann", "--method", "app", "--qr-dir", long)
    assert_user_error(login, "--qr-dir")
    assert emu("app", "inbox", "--json").stdout.strip() == "[]"  # no login was left behind


# -- 10: usage errors, the state option, Ctrl-C -------------------------------------------------


def test_a_usage_error_is_one_line_with_the_help_to_see(emu: Emu) -> None:
    for args in (["codeviser", "new"], ["codeviser", "new", "--name", "t", "--bogus"], ["nope"]):
        result = emu(*args)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: ")
        assert "--help" in lines[0]


def test_an_empty_state_is_refused(
    emu: Emu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = emu("--state", "", "identity", "list")
    assert_user_error(result, "--state", "empty")
    assert list(tmp_path.iterdir()) == []


def test_the_state_may_follow_the_command(emu: Emu, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert emu("codeviser", "new", "--name", "t", "--state", str(other)).exit_code == 0
    assert emu("codeviser", "list", "--state", str(other)).stdout.startswith("t\t")
    assert "no codeviser tokens" in emu("codeviser", "list").stdout
    app = emu("app", "list", "--state", str(other))
    assert app.exit_code == 0, app.output
    assert "no apps" in app.stdout


def test_ctrl_c_exits_130_and_says_interrupted(emu: Emu) -> None:
    created = emu("identity", "create", "--user-id", "ann", "--name", "A", "--password", PASSWORD)
    assert created.exit_code == 0
    assert emu("codeviser", "new", "--name", "t").exit_code == 0
    assert emu("identity", "add-authenticator", "ann", "codeviser", "t").exit_code == 0
    # click's runner feeds no more input: the prompt for the code ends as Ctrl-C would
    result = emu("login", "--user-id", "ann", "--method", "codeviser", input="")
    assert result.exit_code == 130, result.output
    assert result.stderr.strip().splitlines()[-1] == "interrupted"


# -- 11: a PSKC file with the secret in clear is private ----------------------------------------


def test_a_pskc_export_is_private(emu: Emu, tmp_path: Path) -> None:
    assert emu("codeviser", "new", "--name", "t").exit_code == 0
    out = tmp_path / "t.pskc"
    out.write_text("old")
    out.chmod(0o644)
    assert emu("codeviser", "export", "t", "--pskc", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"Secret" in out.read_bytes()


# -- 13: a second press in one time step says when the next code comes --------------------------


def test_a_code_used_already_says_when_the_next_one_comes(emu: Emu, store: Store) -> None:
    created = emu("identity", "create", "--user-id", "ann", "--name", "A", "--password", PASSWORD)
    assert created.exit_code == 0
    assert emu("codeviser", "new", "--name", "t").exit_code == 0
    assert emu("identity", "add-authenticator", "ann", "codeviser", "t").exit_code == 0
    StateClock(store).freeze(T0 + 12)  # 2 s into a 30 s step (steps start at 1_700_000_010)
    login = ["login", "--user-id", "ann", "--method", "codeviser", "--press"]
    first = emu(*login, "--password", PASSWORD)
    assert first.exit_code == 0, first.output
    second = emu(*login, "--password", PASSWORD)
    assert second.exit_code == 1, second.output
    assert "replayed" in second.stderr
    assert "the next code comes in 28 s" in second.stderr
