"""The state store: versioned schemas, atomic changes, private files, survival across restarts."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from authenticators.store import (
    SQLITE_AUTOCHECKPOINT,
    Checkpointer,
    Schema,
    Store,
    StoreError,
    StoreErrorCode,
)

NOTES = Schema("notes", ["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"])
NOTES_V2 = Schema("notes", [*NOTES.migrations, "ALTER TABLE notes ADD COLUMN tag TEXT"])


def test_files_are_private(store: Store) -> None:
    store.ensure(NOTES)
    with store.transaction() as conn:
        conn.execute("INSERT INTO notes(text) VALUES ('x')")
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700
    for path in store.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_failed_transaction_changes_nothing(store: Store) -> None:
    store.ensure(NOTES)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("INSERT INTO notes(text) VALUES ('lost')")
        raise RuntimeError("boom")
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    store.ensure(NOTES)
    with pytest.raises(RuntimeError), store.transaction() as outer:
        outer.execute("INSERT INTO notes(text) VALUES ('a')")
        with store.transaction() as inner:
            inner.execute("INSERT INTO notes(text) VALUES ('b')")
        raise RuntimeError("undo both")
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0


def test_state_survives_a_restart_and_migrates(state_dir: Path) -> None:
    first = Store(state_dir)
    first.ensure(NOTES)
    with first.transaction() as conn:
        conn.execute("INSERT INTO notes(text) VALUES ('kept')")
    first.close()
    second = Store(state_dir)
    second.ensure(NOTES_V2)
    with second.read() as conn:
        row = conn.execute("SELECT text, tag FROM notes").fetchone()
    assert tuple(row) == ("kept", None)
    assert second.integrity_check()


def test_state_from_a_newer_version_is_refused(state_dir: Path) -> None:
    Store(state_dir).ensure(NOTES_V2)
    with pytest.raises(StoreError, match="newer mitid-emulator") as info:
        Store(state_dir).ensure(NOTES)
    assert info.value.code is StoreErrorCode.SCHEMA_TOO_NEW


def test_a_file_that_is_not_a_database_is_refused(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / "state.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a mitid-emulator state database"):
        Store(state_dir)


def test_an_unusable_directory_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="--state") as info:
        Store(blocker / "state")
    assert info.value.code is StoreErrorCode.UNWRITABLE
    assert str(blocker) in str(info.value)


def test_the_environment_variable_picks_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MITID_EMU_STATE", str(tmp_path / "from-env"))
    assert Store().directory == tmp_path / "from-env"


def test_tables_made_in_a_transaction_that_rolls_back_are_made_again(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.ensure(NOTES)  # first use, inside a caller's transaction
        raise RuntimeError("the caller's work failed")
    store.ensure(NOTES)
    with store.transaction() as conn:
        conn.execute("INSERT INTO notes(text) VALUES ('x')")


def test_deferred_checkpoints_leave_the_log_to_the_checkpointer(state_dir: Path) -> None:
    store = Store(state_dir)
    store.ensure(NOTES)
    checkpointer = Checkpointer(store, interval=3600)
    checkpointer.start()
    try:
        for n in range(1500):  # well past the thousand pages that trigger a checkpoint
            with store.transaction() as conn:
                conn.execute("INSERT INTO notes(text) VALUES (?)", (f"{n:04d}" + "x" * 3000,))
        log = store._connect().execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
        assert log[1] > 1000  # no commit copied the log
    finally:
        checkpointer.stop()  # copies what is left on its way out
    assert (
        store._connect().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == SQLITE_AUTOCHECKPOINT
    )
    reopened = Store(state_dir)
    with reopened.read() as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 1500
    assert reopened.integrity_check()


def test_the_checkpointer_copies_the_log_while_writers_go_on(state_dir: Path) -> None:
    store = Store(state_dir)
    store.ensure(NOTES)
    checkpointer = Checkpointer(store, interval=0.01).start()
    try:
        for n in range(300):
            with store.transaction() as conn:
                conn.execute("INSERT INTO notes(text) VALUES (?)", (f"{n:04d}",))
        deadline = time.monotonic() + 10
        while True:
            log = store._connect().execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
            if log[1] == log[2] or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert log[1] == log[2]  # every page of the log is in the database file
    finally:
        checkpointer.stop()


def test_the_memo_lasts_as_long_as_the_outermost_transaction_or_read(store: Store) -> None:
    store.ensure(NOTES)
    assert store.memo() is None
    with store.transaction():
        memo = store.memo()
        assert memo == {}
        memo["row"] = 1
        with store.read(), store.transaction():  # nested ones join the outer one
            assert store.memo() is memo
    assert store.memo() is None
    with store.read():
        assert store.memo() == {}  # nothing kept from the last one
    with pytest.raises(RuntimeError), store.transaction():
        store.memo()["row"] = 2  # type: ignore[index]
        raise RuntimeError("rolled back")
    assert store.memo() is None
