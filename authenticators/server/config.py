"""The server's settings: where it listens, what it calls itself, how long things live."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from authenticators.protocol import Level

CONFIG_ENV = "MITID_EMU_SERVER_CONFIG"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class ServerConfig:
    """Everything a worker needs to build the app; passed to worker processes as JSON."""

    state_dir: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    issuer: str = ""
    # The NemLog-in IdP's entityID (default: the issuer URL + "/nemlogin").
    nemlogin_entity_id: str = ""
    admin_token: str | None = field(default=None, repr=False)
    clients_file: str | None = None
    service_provider: str = "Demo Service"
    default_level: str = Level.SUBSTANTIAL.value
    code_lifetime: float = 60.0
    token_lifetime: float = 3600.0
    refresh_lifetime: float = 30 * 86400.0
    # A browser that has logged in is not asked again for this long (single sign-on), unless
    # the service sends prompt=login or a max_age that has passed.
    session_lifetime: float = 3600.0
    flow_lifetime: float = 1800.0
    body_limit: int = 64 * 1024
    clock_cache: float = 0.1
    # Processes that check passwords (scrypt) beside the server's threads: 0 = one per core,
    # -1 = none (check in the request's thread).
    password_workers: int = 0
    # What OIDC times (tokens, codes, login flows, keys) follow: "real" time, or the "emulator"'s
    # clock that the control API moves and freezes (for tests that freeze both sides).
    oidc_clock: str = "real"
    # Web origins (scheme://host[:port]) allowed to call the OIDC endpoints from a page, beside
    # those of every registered client's redirect URIs.
    cors_origins: tuple[str, ...] = ()
    # Broker dialects' choices where their brokers' documentation is not definite, each
    # "DIALECT.NAME=VALUE" (server/brokers; `serve --broker-option`).
    broker_options: tuple[str, ...] = ()

    @property
    def issuer_url(self) -> str:
        if self.issuer:
            return self.issuer.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def state_path(self) -> Path | None:
        return Path(self.state_dir) if self.state_dir else None

    def with_port(self, port: int) -> ServerConfig:
        return replace(self, port=port)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        data: dict[str, Any] = json.loads(text)
        data["cors_origins"] = tuple(data.get("cors_origins") or ())
        data["broker_options"] = tuple(data.get("broker_options") or ())
        return cls(**data)

    @classmethod
    def from_env(cls) -> ServerConfig:
        text = os.environ.get(CONFIG_ENV)
        return cls.from_json(text) if text else cls()
