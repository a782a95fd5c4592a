"""`app approve` reports what the verifier decided: a refused answer is exit 1, never "approved"."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from authenticators.clock import SystemClock
from authenticators.core.login import LoginService
from authenticators.protocol import Reason
from authenticators.store import Store
from tests.app.helpers import PIN, USER, begin, enroll, open_screen
from tests.support import Emu, assert_user_error


def test_a_wrong_code_is_refused_and_the_right_one_still_logs_in(emu: Emu, store: Store) -> None:
    service = LoginService(store, SystemClock())
    service.identities.create(USER, "Alice Test")
    app_id = enroll(service)
    challenge = begin(service)
    screen = open_screen(service, challenge)
    assert screen.current is not None
    wrong = f"{(int(screen.current.code) + 1) % 10000:04d}"

    refused = emu("app", "approve", "--code", wrong, "--pin", PIN)
    assert refused.exit_code == 1, refused.output
    assert "approved" not in refused.stdout
    assert "bad_binding" in refused.stderr

    approved = emu("app", "approve", "--code", screen.current.code, "--app", app_id)
    assert approved.exit_code == 0, approved.output
    assert f"approved login {challenge.transaction_id}" in approved.stdout
    response = screen.poll()
    assert response is not None
    assert service.complete(challenge.transaction_id, response).verdict.reason is Reason.OK


def test_login_json_is_one_object_when_refused_before_it_starts(emu: Emu, store: Store) -> None:
    service = LoginService(store, SystemClock())
    service.identities.create(USER, "Alice Test", password="long-enough-1")
    enroll(service)  # at substantial
    login = ["login", "--user-id", USER, "--method", "app", "--json", "--password", "x"]

    high = emu(*login, "--level", "high")
    assert high.exit_code == 2, high.output
    data = json.loads(high.stdout)
    assert (data["ok"], data["reason"]) == (False, "insufficient_level")
    assert "enrolled below level high" in high.stderr
    assert json.loads(emu("app", "inbox", "--json").stdout) == []  # nothing was pushed

    begin(service)  # another app login for the same person is waiting
    parallel = emu(*login)
    assert parallel.exit_code == 1, parallel.output
    data = json.loads(parallel.stdout)
    assert (data["ok"], data["reason"]) == (False, "parallel_session")


def test_every_hint_after_removing_an_app_works(emu: Emu, store: Store) -> None:
    service = LoginService(store, SystemClock())
    service.identities.create(USER, "Alice Test", password="long-enough-1")
    app_id = enroll(service)
    assert emu("app", "remove", app_id).exit_code == 0
    login = emu("login", "--user-id", USER, "--method", "app", "--password", "x")
    assert_user_error(login, "app enroll", "app activate")
    linked = emu("identity", "add-authenticator", USER, "app", app_id)
    assert_user_error(linked, f"app activate {app_id}")
    assert emu("app", "activate", app_id).exit_code == 0
    assert f"app {app_id}" in emu("identity", "show", USER).stdout
    # an app linked while deactivated (as the old hint did) is activated all the same
    assert emu("app", "remove", app_id).exit_code == 0
    service.identities.add_authenticator(USER, "app", app_id)
    activated = emu("app", "activate", app_id)
    assert activated.exit_code == 0, activated.output


def test_a_login_ended_by_sigterm_frees_the_persons_app_logins(emu: Emu, store: Store) -> None:
    service = LoginService(store, SystemClock())
    service.identities.create(USER, "Alice Test", password="long-enough-1")
    enroll(service)
    proc = subprocess.Popen(
        [sys.executable, "-m", "authenticators.cli", "--state", str(emu.state_dir),
         "login", "--user-id", USER, "--method", "app", "--password", "x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:  # the login is pushed and on screen once it says so
        if "Open the MitID app" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert json.loads(emu("app", "inbox", "--json").stdout) == []
    assert_user_error(emu("app", "reject"), "no app has a pending request")
    begin(service)  # the next app login is not refused as parallel
