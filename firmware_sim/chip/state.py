"""Persistent state: what survives a power cycle (keys, PIN, counter, resident credentials).

The device keeps a mirror in memory and writes every change through a backend *before* it is
used — in particular the signature counter is committed before the response that carries it
leaves the device, so a crash can never make a counter value repeat or go back. Two backends:
:class:`MemoryBackend` for in-process use and :class:`StoreBackend` on the project's SQLite store
for ``chip serve``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from authenticators.store import Schema, Store
from firmware_sim.chip import cbor

PIN_RETRIES_MAX = 8
MIN_PIN_LENGTH_DEFAULT = 4

SCHEMA = Schema(
    namespace="firmware_chip",
    migrations=[
        "CREATE TABLE firmware_chip_state ("
        " device TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
        " PRIMARY KEY (device, key));"
        "CREATE TABLE firmware_chip_models ("
        " model TEXT PRIMARY KEY, material BLOB NOT NULL)",
    ],
)


class StateBackend(Protocol):
    """Where a device's state lives; ``commit`` is atomic and durable when it returns."""

    def load(self) -> dict[str, bytes]: ...

    def commit(self, changes: Mapping[str, bytes | None]) -> None: ...

    def advance(self, key: str, step: Callable[[bytes | None], bytes]) -> bytes:
        """Replace one value by ``step(current)`` atomically, against other processes too."""
        ...

    def load_model(self, model: str) -> bytes | None: ...

    def save_model(self, model: str, material: bytes) -> bytes: ...


class MemoryBackend:
    """State held by the Python object only; models are shared by the whole process."""

    _models: ClassVar[dict[str, bytes]] = {}
    _models_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return "MemoryBackend()"

    def load(self) -> dict[str, bytes]:
        return dict(self._data)

    def commit(self, changes: Mapping[str, bytes | None]) -> None:
        for key, value in changes.items():
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value

    def advance(self, key: str, step: Callable[[bytes | None], bytes]) -> bytes:
        value = step(self._data.get(key))
        self._data[key] = value
        return value

    def load_model(self, model: str) -> bytes | None:
        return self._models.get(model)

    def save_model(self, model: str, material: bytes) -> bytes:
        with self._models_lock:
            return self._models.setdefault(model, material)


class StoreBackend:
    """State in the project's SQLite store, under the ``firmware_chip`` schema namespace."""

    def __init__(self, store: Store, device: str = "default") -> None:
        self.store = store
        self.device = device
        store.ensure(SCHEMA)

    def __repr__(self) -> str:
        return f"StoreBackend({self.store!r}, device={self.device!r})"

    def load(self) -> dict[str, bytes]:
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT key, value FROM firmware_chip_state WHERE device = ?", (self.device,)
            ).fetchall()
        return {str(row[0]): bytes(row[1]) for row in rows}

    def commit(self, changes: Mapping[str, bytes | None]) -> None:
        with self.store.transaction() as conn:
            for key, value in changes.items():
                if value is None:
                    conn.execute(
                        "DELETE FROM firmware_chip_state WHERE device = ? AND key = ?",
                        (self.device, key),
                    )
                else:
                    conn.execute(
                        "INSERT INTO firmware_chip_state(device, key, value) VALUES (?, ?, ?) "
                        "ON CONFLICT(device, key) DO UPDATE SET value = excluded.value",
                        (self.device, key, value),
                    )

    def advance(self, key: str, step: Callable[[bytes | None], bytes]) -> bytes:
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT value FROM firmware_chip_state WHERE device = ? AND key = ?",
                (self.device, key),
            ).fetchone()
            value = step(bytes(row[0]) if row else None)
            conn.execute(
                "INSERT INTO firmware_chip_state(device, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(device, key) DO UPDATE SET value = excluded.value",
                (self.device, key, value),
            )
        return value

    def load_model(self, model: str) -> bytes | None:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT material FROM firmware_chip_models WHERE model = ?", (model,)
            ).fetchone()
        return bytes(row[0]) if row else None

    def save_model(self, model: str, material: bytes) -> bytes:
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT material FROM firmware_chip_models WHERE model = ?", (model,)
            ).fetchone()
            if row:
                return bytes(row[0])
            conn.execute(
                "INSERT INTO firmware_chip_models(model, material) VALUES (?, ?)",
                (model, material),
            )
        return material


_RK_PREFIX = "rk:"
#: A device's own attestation identity outlives factory resets.
_ENTERPRISE = "enterprise_attestation_key"


class ChipState:
    """Typed view of one device's persistent state; every setter commits before returning."""

    def __init__(self, backend: StateBackend) -> None:
        self.backend = backend
        self._lock = threading.RLock()
        self._data: dict[str, Any] = {}
        for key, raw in backend.load().items():
            self._data[key] = cbor.decode(raw)
        if "secrets" not in self._data:
            self._commit({"secrets": _fresh_secrets()})
        self.residents: dict[bytes, dict[str, Any]] = {}
        for key, value in self._data.items():
            if key.startswith(_RK_PREFIX):
                self.residents[bytes.fromhex(key[len(_RK_PREFIX) :])] = value

    def __repr__(self) -> str:
        return f"ChipState(backend={self.backend!r}, residents={len(self.residents)})"

    def _commit(self, changes: Mapping[str, Any]) -> None:
        encoded = {k: None if v is None else cbor.encode(v) for k, v in changes.items()}
        with self._lock:
            self.backend.commit(encoded)
            for key, value in changes.items():
                if value is None:
                    self._data.pop(key, None)
                else:
                    self._data[key] = value

    # -- device secrets --------------------------------------------------------------------

    @property
    def wrap_key(self) -> bytes:
        """AES-256-GCM key that wraps non-resident credential private keys."""
        return bytes(self._data["secrets"]["wrap"])

    @property
    def cred_random_key(self) -> bytes:
        """Key from which each credential's hmac-secret CredRandom values are derived."""
        return bytes(self._data["secrets"]["hmac"])

    # -- signature counter -----------------------------------------------------------------

    @property
    def counter(self) -> int:
        return int(self._data.get("counter", 0))

    def next_counter(self) -> int:
        """Advance the global signature counter and persist it before anyone sees it.

        It counts on from the stored value, not this object's copy: two processes driving the
        same simulated chip at once still give every signature a counter of its own.
        """
        return int(self._advance("counter", lambda current: (int(current or 0) + 1) & 0xFFFFFFFF))

    def _advance(self, key: str, step: Callable[[Any], Any]) -> Any:
        def encoded(stored: bytes | None) -> bytes:
            return cbor.encode(step(None if stored is None else cbor.decode(stored)))

        with self._lock:
            raw = self.backend.advance(key, encoded)
            value = cbor.decode(raw)
            self._data[key] = value
            return value

    # -- PIN -------------------------------------------------------------------------------

    @property
    def pin_hash(self) -> bytes | None:
        pin = self._data.get("pin")
        return bytes(pin["hash"]) if pin else None

    @property
    def pin_length(self) -> int:
        pin = self._data.get("pin")
        return int(pin["length"]) if pin else 0

    @property
    def pin_retries(self) -> int:
        return int(self._data.get("retries", PIN_RETRIES_MAX))

    def set_pin(self, pin_hash: bytes, length: int) -> None:
        self._commit(
            {
                "pin": {"hash": pin_hash, "length": length},
                "retries": PIN_RETRIES_MAX,
                "force_pin_change": False,
                "persistent_token": None,
            }
        )

    def set_pin_retries(self, retries: int) -> None:
        self._commit({"retries": retries})

    def spend_pin_retry(self) -> int:
        """Take one PIN try before the PIN is compared; the tries left. Counted on the stored
        value, so that tries made at once from two processes are each counted."""
        return int(
            self._advance(
                "retries", lambda left: (PIN_RETRIES_MAX if left is None else int(left)) - 1
            )
        )

    @property
    def min_pin_length(self) -> int:
        return int(self._data.get("min_pin", MIN_PIN_LENGTH_DEFAULT))

    @property
    def min_pin_rp_ids(self) -> list[str]:
        return [str(x) for x in self._data.get("min_pin_rpids", [])]

    @property
    def force_pin_change(self) -> bool:
        return bool(self._data.get("force_pin_change", False))

    def set_pin_policy(self, min_length: int, rp_ids: list[str], force_change: bool) -> None:
        self._commit(
            {"min_pin": min_length, "min_pin_rpids": rp_ids, "force_pin_change": force_change}
        )

    @property
    def persistent_token(self) -> tuple[bytes, int] | None:
        """The persistent pinUvAuthToken and its PIN/UV protocol, if one was issued."""
        value = self._data.get("persistent_token")
        return (bytes(value["token"]), int(value["protocol"])) if value else None

    def set_persistent_token(self, token: bytes, protocol: int) -> None:
        self._commit({"persistent_token": {"token": token, "protocol": protocol}})

    @property
    def enterprise_attestation(self) -> bool:
        return bool(self._data.get("ep", False))

    def enable_enterprise_attestation(self) -> None:
        self._commit({"ep": True})

    def enterprise_material(self, make: Callable[[], bytes]) -> bytes:
        """This device's enterprise attestation key and chain, made once and kept for good."""
        value = self._data.get(_ENTERPRISE)
        if value is None:
            value = make()
            self._commit({_ENTERPRISE: value})
        return bytes(value)

    @property
    def always_uv(self) -> bool:
        return bool(self._data.get("always_uv", False))

    def set_always_uv(self, value: bool) -> None:
        self._commit({"always_uv": value})

    # -- resident credentials --------------------------------------------------------------

    def put_resident(self, cred_id: bytes, record: dict[str, Any], replaces: bytes | None) -> None:
        changes: dict[str, Any] = {_RK_PREFIX + cred_id.hex(): record}
        if replaces is not None and replaces != cred_id:
            changes[_RK_PREFIX + replaces.hex()] = None
        with self._lock:
            self._commit(changes)
            if replaces is not None:
                self.residents.pop(replaces, None)
            self.residents[cred_id] = record

    def delete_resident(self, cred_id: bytes) -> None:
        with self._lock:
            self._commit({_RK_PREFIX + cred_id.hex(): None})
            self.residents.pop(cred_id, None)

    # -- keys too large for a credential ID ------------------------------------------------

    def key(self, handle: str) -> bytes | None:
        value = self._data.get(handle)
        return bytes(value) if value is not None else None

    def put_key(self, handle: str, der: bytes) -> None:
        self._commit({handle: der})

    # -- large blobs -----------------------------------------------------------------------

    @property
    def large_blob(self) -> bytes | None:
        value = self._data.get("large_blob")
        return bytes(value) if value is not None else None

    def set_large_blob(self, data: bytes) -> None:
        self._commit({"large_blob": data})

    # -- factory reset ---------------------------------------------------------------------

    def factory_reset(self) -> None:
        """Forget every credential, the PIN and the settings; the counter keeps rising."""
        with self._lock:
            kept = ("counter", _ENTERPRISE)
            changes: dict[str, Any] = {key: None for key in self._data if key not in kept}
            changes["secrets"] = _fresh_secrets()
            self._commit(changes)
            self.residents.clear()


def _fresh_secrets() -> dict[str, bytes]:
    return {"wrap": secrets.token_bytes(32), "hmac": secrets.token_bytes(32)}
