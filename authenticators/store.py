"""Persistent state: one SQLite file, schema-versioned per component, safe across processes.

Every change happens inside :meth:`Store.transaction`, which takes SQLite's write lock up front
(``BEGIN IMMEDIATE``): two processes verifying the same code are serialised, and the loser sees the
winner's committed state. Transactions nest by joining the outer one, so a component can read and
write inside a caller's transaction without knowing about it.
"""

from __future__ import annotations

import contextlib
import enum
import os
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from authenticators.errors import CodedError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

STATE_ENV = "MITID_EMU_STATE"
DB_NAME = "state.sqlite3"
LOCK_NAME = "state.lock"
#: SQLite's own default: a commit that takes the log past this many pages checkpoints it.
SQLITE_AUTOCHECKPOINT = 1000


class StoreErrorCode(enum.Enum):
    UNWRITABLE = "unwritable"
    SCHEMA_TOO_NEW = "schema_too_new"
    CORRUPT = "corrupt"
    BUSY = "busy"


class StoreError(CodedError[StoreErrorCode]):
    """The state cannot be used: unwritable, from a newer version, corrupt, or busy."""


@dataclass(frozen=True)
class Schema:
    """The tables of one component. Migration *n* (1-based) moves the namespace to version *n*."""

    namespace: str
    migrations: Sequence[str]

    @property
    def version(self) -> int:
        return len(self.migrations)


def default_state_dir() -> Path:
    env = os.environ.get(STATE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("mitid-emulator", appauthor=False))


class Store:
    """A handle on the state directory; cheap to create, one SQLite connection per thread."""

    def __init__(self, directory: Path | str | None = None, *, busy_timeout: float = 30.0) -> None:
        self.directory = Path(directory).expanduser() if directory else default_state_dir()
        self.path = self.directory / DB_NAME
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._ensured: set[str] = set()
        self._ensure_lock = threading.Lock()
        # Writers queue here rather than in SQLite's busy handler, which sleeps for up to
        # 100 ms between tries: threads of this process on a lock, processes on a file lock.
        self._write_lock = threading.Lock()
        self._lock_fd: int | None = None
        self._lock_pid = 0
        self._autocheckpoint = True
        self._prepare_files()

    def __repr__(self) -> str:
        return f"Store({str(self.directory)!r})"

    # -- files -------------------------------------------------------------------------------

    def _prepare_files(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            conn = self._connect()
            conn.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.OperationalError) as exc:
            raise StoreError(
                StoreErrorCode.UNWRITABLE,
                f"cannot use state directory {self.directory}: {_os_reason(exc)}; "
                f"choose another with --state DIR or {STATE_ENV}",
            ) from None
        except sqlite3.DatabaseError:
            raise StoreError(
                StoreErrorCode.CORRUPT,
                f"{self.path} is not a mitid-emulator state database; "
                "point --state at another directory or move the file away",
            ) from None

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=True
        )
        conn.row_factory = sqlite3.Row
        # WAL + NORMAL: a commit survives the process being killed; only power loss could
        # undo the last commits, which an emulator accepts for speed.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if not self._autocheckpoint:
            conn.execute("PRAGMA wal_autocheckpoint=0")
        self._local.conn = conn
        self._local.pid = os.getpid()
        self._local.depth = 0
        return conn

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- checkpoints -------------------------------------------------------------------------

    def defer_checkpoints(self, defer: bool = True) -> None:
        """Stop commits of this handle from copying the log into the database file.

        Left on, every thousandth page written makes one commit copy the log and wait for two
        ``fsync`` calls while it holds the write lock, and every writer queues behind it; a
        :class:`Checkpointer` does that work beside the writers instead.
        """
        self._autocheckpoint = not defer
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.execute(f"PRAGMA wal_autocheckpoint={0 if defer else SQLITE_AUTOCHECKPOINT}")

    def checkpoint(self) -> None:
        """Copy what the log holds into the database file, without waiting for any writer."""
        conn = self._connect()
        if self._local.depth == 0:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    # -- the writers' queue ------------------------------------------------------------------

    def _acquire_write(self) -> None:
        """Wait for this process's writers, then other processes' (up to the busy timeout)."""
        if not self._write_lock.acquire(timeout=self._busy_timeout):
            raise StoreError(
                StoreErrorCode.BUSY,
                f"state {self.path} stayed locked by another thread; try again",
            )
        try:
            self._lock_file()
        except BaseException:
            self._write_lock.release()
            raise

    def _lock_file(self) -> None:
        if fcntl is None:
            return
        if self._lock_fd is None or self._lock_pid != os.getpid():
            try:
                self._lock_fd = os.open(self.directory / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
            except OSError:
                self._lock_fd = None
                return  # a read-only directory: SQLite's own locking still applies
            self._lock_pid = os.getpid()
        deadline = time.monotonic() + self._busy_timeout
        pause = 0.00002
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        StoreErrorCode.BUSY,
                        f"state {self.path} stayed locked by another process; try again",
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.0001)

    def _release_write(self) -> None:
        try:
            if fcntl is not None and self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            self._write_lock.release()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the write lock for the block; commit on success, roll back on any exception."""
        conn = self._connect()
        if self._local.depth > 0:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        self._acquire_write()
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(
                    StoreErrorCode.BUSY,
                    f"state {self.path} stayed locked by another process ({exc}); try again",
                ) from None
            self._local.depth = 1
            self._local.created = []
            self._local.memo = {}
            try:
                yield conn
            except BaseException:
                self._local.depth = 0
                conn.execute("ROLLBACK")
                raise
            self._local.depth = 0
            conn.execute("COMMIT")
        finally:
            self._local.memo = None
            self._release_write()
        # Tables made inside this transaction exist only now that it has committed.
        self._ensured.update(self._local.created)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for reading (joins an open transaction)."""
        conn = self._connect()
        if self._local.depth > 0:
            yield conn
            return
        conn.execute("BEGIN")
        self._local.depth = 1
        self._local.memo = {}
        try:
            yield conn
        finally:
            self._local.depth = 0
            self._local.memo = None
            conn.execute("ROLLBACK")

    def memo(self) -> dict[Any, Any] | None:
        """A dict for what was read in the transaction or read open in this thread (None when
        none is): it lasts as long as the outermost one.

        Within one, no other connection's commit shows (a snapshot, or the write lock), so a
        row read twice is the same row, unless this thread changed it: whoever keeps a row
        here forgets it when they write it.
        """
        if getattr(self._local, "depth", 0) == 0:
            return None
        memo: dict[Any, Any] = self._local.memo
        return memo

    # -- schema ------------------------------------------------------------------------------

    def ensure(self, schema: Schema) -> None:
        """Create or migrate a component's tables; refuse state written by a newer version."""
        if schema.namespace in self._ensured:
            return
        with self._ensure_lock, self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions ("
                " namespace TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            row = conn.execute(
                "SELECT version FROM schema_versions WHERE namespace = ?", (schema.namespace,)
            ).fetchone()
            current = row[0] if row else 0
            if current > schema.version:
                raise StoreError(
                    StoreErrorCode.SCHEMA_TOO_NEW,
                    f"state in {self.directory} was written by a newer mitid-emulator "
                    f"({schema.namespace} v{current}, this one knows v{schema.version}); "
                    "upgrade mitid-emulator or use another --state directory",
                )
            for script in schema.migrations[current:]:
                for statement in _statements(script):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions(namespace, version) VALUES (?, ?) "
                "ON CONFLICT(namespace) DO UPDATE SET version = excluded.version",
                (schema.namespace, schema.version),
            )
            self._local.created.append(schema.namespace)

    def clear(self, keep: Collection[str] = ()) -> None:
        """Empty every table of every component but those named in ``keep`` (the emulator's
        reset): the one place that lists the tables, since it holds them all."""
        with self.transaction() as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' AND name != 'schema_versions'"
                ).fetchall()
            ]
            conn.execute("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                if table not in keep:
                    conn.execute(f'DELETE FROM "{table}"')  # noqa: S608 - names from sqlite_master

    def integrity_check(self) -> bool:
        with self.read() as conn:
            row = conn.execute("PRAGMA integrity_check").fetchone()
        return bool(row and row[0] == "ok")


class Checkpointer:
    """A thread that checkpoints a store whose commits do not (:meth:`Store.defer_checkpoints`)."""

    def __init__(self, store: Store, interval: float = 0.5) -> None:
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkpointer", daemon=True)

    def start(self) -> Checkpointer:
        self.store.defer_checkpoints()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.store.defer_checkpoints(False)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                with contextlib.suppress(sqlite3.Error):
                    self.store.checkpoint()
            with contextlib.suppress(sqlite3.Error):
                self.store.checkpoint()
        finally:
            self.store.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)
