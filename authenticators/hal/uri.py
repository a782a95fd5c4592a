"""Device URIs and the one factory that turns them into open tokens.

``sim:`` / ``sim:NAME``      a simulated chip in process; its state lives in the state directory,
                             so it is the same chip in every command (``?presence=never`` etc.
                             chooses who touches its button; the default is "always";
                             ``?model=solo1`` the key model; ``?channels=strict`` spec-strict
                             CTAPHID channels)
``udp://HOST:PORT``          an out-of-process simulator (``mitid-emu chip serve``); answers come
                             to 127.0.0.1:7112, or to ``?reply=PORT``
``hid:auto`` / ``hid:PATH``  a real token through hidapi (``/dev/hidrawN`` on Linux)

This module is the only place that knows how each kind of device is built — including the
simulator, which the host side otherwise never touches except through reports.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authenticators.clock import Clock, SystemClock
from authenticators.hal import hidapi
from authenticators.hal.base import READ_TIMEOUT, HalDevice, descriptor, handshake
from authenticators.hal.errors import HalError, HalErrorCode
from authenticators.hal.sim import SimConnection
from authenticators.hal.udp import DEFAULT_REPLY_PORT, DEFAULT_TOKEN_PORT, UdpConnection
from authenticators.store import Store

SCHEMES = ("sim", "udp", "hid")
DEFAULT_SIM = "default"
#: Simulated chips behind ``sim:`` are kept apart from the one ``chip serve`` runs.
SIM_DEVICE_PREFIX = "sim:"
SIM_PRODUCT = "MitID emulated chip (simulator)"
_SIM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_USAGE = "use sim:, sim:NAME, udp://127.0.0.1:8111, hid:auto or hid:PATH"


@dataclass(frozen=True)
class DeviceUri:
    """A parsed device URI; ``text`` is how the user wrote it."""

    text: str
    scheme: str
    name: str = ""
    host: str = ""
    port: int = 0
    reply_port: int = DEFAULT_REPLY_PORT
    presence: str | None = None
    model: str | None = None
    strict_channels: bool = False

    @property
    def canonical(self) -> str:
        if self.scheme == "sim":
            base = "sim:" if self.name == DEFAULT_SIM else f"sim:{self.name}"
            query = [f"presence={self.presence}"] if self.presence else []
            query += [f"model={self.model}"] if self.model else []
            query += ["channels=strict"] if self.strict_channels else []
            return base + ("?" + "&".join(query) if query else "")
        if self.scheme == "udp":
            reply = "" if self.reply_port == DEFAULT_REPLY_PORT else f"?reply={self.reply_port}"
            return f"udp://{self.host}:{self.port}{reply}"
        return f"hid:{self.name}"


def _bad(text: str, problem: str) -> HalError:
    return HalError(HalErrorCode.BAD_URI, text or "''", problem, _USAGE)


def parse(text: str) -> DeviceUri:
    """Read a device URI; :class:`HalError` (``BAD_URI``) says what is wrong with it."""
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    if not sep or scheme not in SCHEMES:
        raise _bad(text, "is not a device URI")
    if scheme == "sim":
        name, _, query = rest.partition("?")
        name = name or DEFAULT_SIM
        if not _SIM_NAME.fullmatch(name):
            raise _bad(text, "a simulated chip's name is 1-64 letters, digits, '.', '_' or '-'")
        params = parse_qs(query, keep_blank_values=True)
        unknown = set(params) - {"presence", "model", "channels"}
        if unknown:
            raise _bad(
                text,
                f"unknown parameter {sorted(unknown)[0]!r} (sim: takes presence, model, channels)",
            )
        presence = params.get("presence", [None])[-1]
        if presence is not None and not re.fullmatch(r"always|never|delay:\d{1,7}", presence):
            raise _bad(text, "presence is always, never or delay:MS")
        model = params.get("model", [None])[-1]
        if model is not None and model not in model_names():
            raise _bad(text, f"model is one of {', '.join(model_names())}")
        channels = params.get("channels", [None])[-1]
        if channels not in (None, "strict"):
            raise _bad(text, "channels=strict is the one channel option")
        return DeviceUri(
            text,
            "sim",
            name=name,
            presence=presence,
            model=model,
            strict_channels=channels == "strict",
        )
    if scheme == "udp":
        parts = urlsplit(text)
        try:
            port = parts.port or DEFAULT_TOKEN_PORT
        except ValueError:
            raise _bad(text, "the port is not a number from 1 to 65535") from None
        host = parts.hostname or "127.0.0.1"
        if host == "localhost":
            host = "127.0.0.1"
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise _bad(text, "the UDP convention answers to 127.0.0.1 only; use a loopback host")
        params = parse_qs(parts.query)
        unknown = set(params) - {"reply"}
        if unknown:
            raise _bad(text, f"unknown parameter {sorted(unknown)[0]!r} (udp: takes reply)")
        reply_text = params.get("reply", [str(DEFAULT_REPLY_PORT)])[-1]
        if not reply_text.isdigit() or not 0 < int(reply_text) < 65536:
            raise _bad(text, "reply is a port number from 1 to 65535")
        return DeviceUri(text, "udp", host=host, port=port, reply_port=int(reply_text))
    if not rest:
        raise _bad(text, "name a path after hid:, or use hid:auto")
    return DeviceUri(text, "hid", name=rest)


def model_names() -> list[str]:
    """The key models a simulated chip can be (``?model=``, ``chip serve --model``)."""
    from firmware_sim.chip.models import MODELS

    return list(MODELS)


def simulator_models() -> list[dict[str, str]]:
    """What each key model is, for listings."""
    from firmware_sim.chip.models import MODELS

    return [
        {
            "name": m.key,
            "product": m.name,
            "aaguid": str(uuid.UUID(bytes=m.aaguid)),
            "versions": ", ".join(m.versions),
            "summary": m.summary,
        }
        for m in MODELS.values()
    ]


def open_device(
    uri: str | DeviceUri,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    timeout: float = READ_TIMEOUT,
    hid_backend: Any = None,
) -> HalDevice:
    """Open the token a URI names, with a CTAPHID channel ready; :class:`HalError` if not."""
    parsed = uri if isinstance(uri, DeviceUri) else parse(uri)
    if parsed.scheme == "sim":
        return _open_sim(parsed, store or Store(), clock or SystemClock(), timeout)
    if parsed.scheme == "udp":
        return _open_udp(parsed, timeout)
    return _open_hid(parsed, hid_backend if hid_backend is not None else hidapi.backend(), timeout)


def _open_sim(uri: DeviceUri, store: Store, clock: Clock, timeout: float) -> HalDevice:
    from firmware_sim.chip import ChipDevice, StoreBackend, parse_policy
    from firmware_sim.chip.models import DEFAULT_MODEL, model_named

    chip = ChipDevice(
        backend=StoreBackend(store, SIM_DEVICE_PREFIX + uri.name),
        clock=clock,
        presence=parse_policy(uri.presence or "always"),
        model=model_named(uri.model) if uri.model else DEFAULT_MODEL,
        strict_channels=uri.strict_channels,
    )
    connection = SimConnection(uri.text, chip.connect(), timeout=timeout, on_close=chip.close)
    desc = descriptor(uri.canonical, SIM_PRODUCT, f"sim-{uri.name}")
    try:
        ctap = handshake(uri.text, desc, connection)
    except BaseException:
        connection.close()
        raise
    return HalDevice(
        uri=uri.text,
        transport="sim",
        ctap=ctap,
        connection=connection,
        product=SIM_PRODUCT,
        serial=f"sim-{uri.name}",
        simulated=True,
        power_cycle_hook=chip.power_cycle,
    )


def _open_udp(uri: DeviceUri, timeout: float) -> HalDevice:
    connection = UdpConnection(uri.text, uri.host, uri.port, uri.reply_port, timeout=timeout)
    desc = descriptor(uri.canonical, "simulator over UDP", None)
    try:
        ctap = handshake(uri.text, desc, connection)
    except HalError as exc:
        connection.close()
        if exc.code is HalErrorCode.NOT_FIDO:
            raise HalError(
                HalErrorCode.NOT_FOUND, uri.text, "no token answers there", connection.silent_hint
            ) from None
        raise
    except BaseException:
        connection.close()
        raise
    return HalDevice(
        uri=uri.text,
        transport="udp",
        ctap=ctap,
        connection=connection,
        product="simulator over UDP",
        simulated=True,
        power_cycle_hook=connection.reboot,
    )


def _open_hid(uri: DeviceUri, hid: Any, timeout: float) -> HalDevice:
    info = hidapi.select(hid, uri.text, uri.name)
    connection = hidapi.HidapiConnection(uri.text, hid, info, timeout=timeout)
    desc = descriptor(info.path, info.product, info.serial, info.vendor_id, info.product_id)
    try:
        ctap = handshake(uri.text, desc, connection)
    except BaseException:
        connection.close()
        raise
    return HalDevice(
        uri=uri.text,
        transport="hid",
        ctap=ctap,
        connection=connection,
        product=info.product,
        serial=info.serial,
    )


# -- what is there ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """One device ``chip list`` shows."""

    uri: str
    kind: str
    product: str | None
    serial: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "kind": self.kind,
            "product": self.product,
            "serial": self.serial,
            "note": self.note,
        }


def simulated_chips(store: Store) -> list[str]:
    """Names of the ``sim:`` chips that have state in this directory."""
    from firmware_sim.chip.state import SCHEMA

    store.ensure(SCHEMA)
    with store.read() as conn:
        rows = conn.execute(
            "SELECT DISTINCT device FROM firmware_chip_state WHERE device LIKE ? ORDER BY device",
            (SIM_DEVICE_PREFIX + "%",),
        ).fetchall()
    return [str(row[0])[len(SIM_DEVICE_PREFIX) :] for row in rows]


def probe_udp(port: int = DEFAULT_TOKEN_PORT, reply_port: int = DEFAULT_REPLY_PORT) -> str | None:
    """Is a simulator answering on udp://127.0.0.1:PORT? None if so, else why not."""
    uri = parse(
        f"udp://127.0.0.1:{port}"
        + ("" if reply_port == DEFAULT_REPLY_PORT else f"?reply={reply_port}")
    )
    try:
        connection = UdpConnection(uri.text, uri.host, uri.port, uri.reply_port, timeout=0.3)
    except HalError as exc:
        return exc.problem
    try:
        handshake(uri.text, descriptor(uri.canonical, None, None), connection)
    except HalError:
        return "no simulator answers there"
    finally:
        connection.close()
    return None


def list_devices(
    store: Store | None = None,
    *,
    udp_ports: tuple[int, ...] = (DEFAULT_TOKEN_PORT,),
    reply_port: int = DEFAULT_REPLY_PORT,
    hid_backend: Any = None,
) -> tuple[list[Listing], list[str]]:
    """HID FIDO tokens, simulated chips with state, running UDP simulators; plus notes."""
    found: list[Listing] = []
    notes: list[str] = []
    try:
        hid = hid_backend if hid_backend is not None else hidapi.backend()
        for info in hidapi.enumerate_fido(hid):
            found.append(Listing(info.uri, "hid", info.product, info.serial))
    except (ImportError, OSError) as exc:
        notes.append(f"cannot enumerate HID devices ({exc})")
    if store is not None:
        for name in simulated_chips(store):
            uri = "sim:" if name == DEFAULT_SIM else f"sim:{name}"
            found.append(
                Listing(uri, "sim", SIM_PRODUCT, f"sim-{name}", "state in " + str(store.directory))
            )
    for port in udp_ports:
        why = probe_udp(port, reply_port)
        uri = f"udp://127.0.0.1:{port}" + (
            "" if reply_port == DEFAULT_REPLY_PORT else f"?reply={reply_port}"
        )
        if why is None:
            found.append(Listing(uri, "udp", "simulator over UDP"))
        else:
            notes.append(f"{uri}: {why}")
    return found, notes


def simulator_roots(store: Store) -> list[bytes]:
    """The attestation roots of the simulated chips in this state directory (DER), one per
    key model."""
    from firmware_sim.chip.attestation import batch_for
    from firmware_sim.chip.models import MODELS
    from firmware_sim.chip.state import StoreBackend

    backend = StoreBackend(store)
    return [batch_for(model, backend).root_der for model in MODELS.values()]
