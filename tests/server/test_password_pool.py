"""Password checks in a pool of processes, and the core's injectable checker."""

from __future__ import annotations

from pathlib import Path

from authenticators.clock import FrozenClock
from authenticators.core.login import LoginService
from authenticators.core.passwords import hash_password
from authenticators.server.config import ServerConfig
from authenticators.server.context import build_services
from authenticators.server.passwords import PasswordPool, shared_pool
from authenticators.store import Store


def test_the_pool_checks_passwords_in_child_processes() -> None:
    encoded = hash_password("correct horse")
    pool = PasswordPool(1)
    try:
        assert pool(encoded, "correct horse") is True
        assert pool(encoded, "wrong horse") is False
        assert pool("not-a-hash", "anything") is False
        assert "correct" not in repr(pool)
    finally:
        pool.close()
    assert pool(encoded, "correct horse") is True  # closed: it starts again when needed
    pool.close()


def test_the_server_checks_passwords_in_the_shared_pool(tmp_path: Path) -> None:
    services = build_services(ServerConfig(state_dir=str(tmp_path)))
    assert services.login.password_checker is shared_pool(0)
    inline = build_services(ServerConfig(state_dir=str(tmp_path), password_workers=-1))
    assert inline.login.password_checker is None


def test_login_service_uses_the_checker_it_is_given(tmp_path: Path) -> None:
    seen: list[str] = []

    def checker(encoded: str, password: str) -> bool:
        seen.append(encoded.split("$")[0])
        return password == "the-password"

    store = Store(tmp_path)
    clock = FrozenClock(1_700_000_000.0)
    service = LoginService(store, clock, password_checker=checker)
    service.identities.create("checked.user", "Checked", password="the-password")
    assert service.identities.check_password("checked.user", "the-password", checker=checker)
    assert seen == ["scrypt"]
    assert "checker" not in repr(service)
