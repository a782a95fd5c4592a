"""Password checks off the server's threads: scrypt in a pool of processes, one per core.

scrypt holds the GIL for its whole ~50 ms, so checked in a worker thread it stalls every other
request of that server process. Run in a child process, the thread that waits for it releases
the GIL, the server keeps answering, and concurrent logins use every core. One pool serves every
server in the process; it starts on the first check and stops when the process exits.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from authenticators.core.passwords import check_password

_lock = threading.Lock()
_pools: dict[int, PasswordPool] = {}


class PasswordPool:
    """A :data:`~authenticators.core.login.PasswordChecker` that hashes in child processes."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PasswordPool(workers={self.workers})"

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                method = (
                    "forkserver"
                    if "forkserver" in multiprocessing.get_all_start_methods()
                    else "spawn"
                )
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context(method)
                )
            return self._executor

    def __call__(self, encoded: str, password: str) -> bool:
        try:
            return self._pool().submit(check_password, encoded, password).result()
        except (BrokenProcessPool, OSError, RuntimeError, AssertionError):
            # A child died or the process is shutting down: check here instead.
            self._reset()
            return check_password(encoded, password)

    def _reset(self, wait: bool = False) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)

    def close(self) -> None:
        """Stop the pool's processes and wait for them."""
        self._reset(wait=True)


def close_shared_pools() -> None:
    """Stop every pool of this process, and the fork server that started their processes:
    nothing of the server is left running once it stops."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()
    if pools:
        from multiprocessing import forkserver

        # The standard library stops its fork server only at exit, and not at all when the
        # process ends by a signal; its own tests stop it this way.
        forkserver._forkserver._stop()  # type: ignore[attr-defined]


def shared_pool(workers: int = 0) -> PasswordPool:
    """The process's pool of ``workers`` processes (0: one per core)."""
    size = workers if workers > 0 else (os.cpu_count() or 1)
    with _lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = PasswordPool(size)
        return pool
