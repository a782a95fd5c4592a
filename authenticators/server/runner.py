"""Running the server: in a background thread (tests, the pytest plugin) or as `serve` does."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from typing import Any

import uvicorn

from authenticators.server.app import create_app, prepare_state, services_of_app
from authenticators.server.config import CONFIG_ENV, ServerConfig
from authenticators.store import Checkpointer, Store


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def _bound_socket(host: str, port: int, *, share: bool = False) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Accepted connections inherit it: no Nagle delay between a response's header and body.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ServerThread:
    """One worker in a thread of this process, on a port of its own; ``stop`` ends it."""

    def __init__(self, config: ServerConfig, store: Store | None = None) -> None:
        self._sock = _bound_socket(config.host, config.port)
        port = self._sock.getsockname()[1]
        self.config = replace(config, port=port)
        self.admin_token = prepare_state(self.config, store)
        self.app = create_app(self.config, store)
        self._checkpointer = Checkpointer(services_of_app(self.app).store)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, log_level="warning", lifespan="off", access_log=False, loop="auto"
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def __repr__(self) -> str:
        return f"ServerThread({self.url!r})"

    @property
    def url(self) -> str:
        return self.config.issuer_url

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._checkpointer.start()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the login server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._checkpointer.stop()
        with contextlib.suppress(OSError):
            self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class PortInUse(OSError):
    """The port is taken by another program."""


class WorkerFailed(RuntimeError):
    """A worker process could not start."""


def listening_socket(host: str, port: int, *, share: bool = False) -> socket.socket:
    """A listening socket; with ``share``, one of several on the same port (``SO_REUSEPORT``),
    among which the kernel spreads new connections evenly."""
    sock = _bound_socket(host, port, share=share)
    sock.listen(2048)
    return sock


def check_port(host: str, port: int) -> None:
    """Raise :class:`PortInUse` when no worker could listen on ``host:port``."""
    try:  # not shared: a bind that succeeds means nobody listens, not even another server
        _bound_socket(host, port).close()
    except OSError as exc:
        raise PortInUse(exc.errno, f"{host}:{port} is in use ({exc.strerror})") from None


def serve(config: ServerConfig, workers: int) -> None:
    """Run until interrupted: one process per worker, all sharing the state directory.

    Each worker listens on a socket of its own on the same port (``SO_REUSEPORT``), so the
    kernel gives every worker its share of the connections; with one socket shared, as
    uvicorn's own supervisor does, the connections of a burst pile up on one worker.
    """
    os.environ[CONFIG_ENV] = config.to_json()
    if workers <= 1:
        _serve_worker(config.to_json(), share=False)
    elif SPREADS_CONNECTIONS:
        Supervisor(config, workers).run()
    else:
        _uvicorn_run(config, workers)


#: Linux spreads the connections among sockets sharing a port; elsewhere ``SO_REUSEPORT`` is
#: missing (Windows) or hands them all to one socket (the BSDs, macOS): uvicorn's shared socket.
SPREADS_CONNECTIONS = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


#: How every worker runs the app: each builds it from the configuration in the environment.
_UVICORN: dict[str, Any] = {
    "app": "authenticators.server.app:app_from_env",
    "factory": True,
    "log_level": "warning",
    "access_log": False,
    "lifespan": "off",
    "timeout_graceful_shutdown": 5,
}


def _uvicorn_run(config: ServerConfig, workers: int) -> None:
    uvicorn.run(host=config.host, port=config.port, workers=workers, **_UVICORN)


def _serve_worker(config_json: str, share: bool = True) -> None:
    """One worker process: its own socket on the shared port, uvicorn until told to stop."""
    os.environ[CONFIG_ENV] = config_json
    config = ServerConfig.from_env()
    sock = listening_socket(config.host, config.port, share=share)
    # uvicorn hands SIGINT or SIGTERM on once it has shut down gracefully; by default SIGTERM
    # would end the process at once, leaving the password pool's processes behind. Both end
    # here instead, as no error, and the pool is stopped.
    previous = signal.signal(signal.SIGTERM, _stop_by_exception)
    try:
        with contextlib.suppress(KeyboardInterrupt, _Stopped):
            uvicorn.Server(uvicorn.Config(**_UVICORN)).run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)
        from authenticators.server.passwords import close_shared_pools

        close_shared_pools()


class _Stopped(Exception):
    """SIGTERM, once uvicorn has shut down."""


def _stop_by_exception(signum: int, frame: Any) -> None:
    raise _Stopped


class Supervisor:
    """Starts the workers, starts a worker again when one dies, stops them all on a signal."""

    #: A worker that dies this soon after its start is not started again: it cannot start.
    EARLY_DEATH = 3.0

    def __init__(self, config: ServerConfig, workers: int) -> None:
        self.config = config
        self.count = workers
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[Any, float]] = []
        self._stop = threading.Event()

    def run(self) -> None:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._workers = [self._start() for _ in range(self.count)]
            while not self._stop.wait(0.25):
                self._replace_dead()
        finally:
            try:
                self._stop_all()  # a second Ctrl-C meanwhile changes nothing
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop.set()

    def _start(self) -> tuple[Any, float]:
        process = self._context.Process(
            target=_serve_worker, args=(self.config.to_json(),), daemon=False
        )
        process.start()
        return process, time.monotonic()

    def _replace_dead(self) -> None:
        for index, (process, started) in enumerate(self._workers):
            if process.is_alive():
                continue
            if time.monotonic() - started < self.EARLY_DEATH:
                self._stop.set()
                raise WorkerFailed(
                    f"a worker of the login server stopped at its start (exit code "
                    f"{process.exitcode}); see its message above"
                )
            self._workers[index] = self._start()

    def _stop_all(self) -> None:
        for process, _ in self._workers:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process, _ in self._workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
