"""Running the server: in a background thread (tests, the pytest plugin) or as `serve` does."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from dataclasses import replace
from typing import Any

import uvicorn

from authenticators.server.app import create_app, prepare_state
from authenticators.server.config import CONFIG_ENV, ServerConfig
from authenticators.store import Store


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def _bound_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: no Nagle delay between a response's header and body.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
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
        with contextlib.suppress(OSError):
            self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(config: ServerConfig, workers: int) -> None:
    """Run until interrupted: one process per worker, all sharing the state directory."""
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run(
        "authenticators.server.app:app_from_env",
        factory=True,
        host=config.host,
        port=config.port,
        workers=workers if workers > 1 else None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
