"""The QA battery's machinery: checks, a session on one token, the run and its report.

A check is a function of a :class:`Session`: it returns a short note on success, raises
:class:`Skip` with the reason it does not apply (e.g. not advertised in getInfo), or fails by
raising :class:`CheckFailed` — or anything else, which counts as a failure with its message.
Destructive checks (reset, PIN, resident credentials) run only when resets are allowed.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fido2.cose import CoseKey
from fido2.ctap2.base import AttestationResponse, Info

from authenticators.chip.errors import ChipErrorCode, ChipHostError
from authenticators.chip.host import ES256, ChipHost
from authenticators.hal import HalDevice, HalError, HalErrorCode

RP_ID = "selftest.mitid-emulator.test"
USER = {"id": b"selftest-user", "name": "selftest", "displayName": "Self Test"}


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Skip(Exception):
    """The check does not apply to this token (the message says why)."""


class CheckFailed(Exception):
    """The token did something the specification does not allow."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


CheckFunc = Callable[["Session"], "str | None"]


@dataclass(frozen=True)
class Check:
    area: str
    name: str
    title: str
    func: CheckFunc = field(repr=False)
    destructive: bool = False

    @property
    def id(self) -> str:
        return f"{self.area}.{self.name}"


class Area:
    """The checks of one area, registered by decorator in the order they are written."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.checks: list[Check] = []

    def check(self, title: str, *, destructive: bool = False) -> Callable[[CheckFunc], CheckFunc]:
        def register(func: CheckFunc) -> CheckFunc:
            self.checks.append(Check(self.name, func.__name__, title, func, destructive))
            return func

        return register


@dataclass(frozen=True)
class CheckResult:
    area: str
    name: str
    title: str
    outcome: Outcome
    message: str
    seconds: float

    @property
    def id(self) -> str:
        return f"{self.area}.{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area,
            "name": self.name,
            "title": self.title,
            "outcome": self.outcome.value,
            "message": self.message,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class Report:
    device: dict[str, Any]
    allow_reset: bool
    started: float
    results: list[CheckResult] = field(default_factory=list)
    duration: float = 0.0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def ok(self) -> bool:
        return self.count(Outcome.FAILED) == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "allow_reset": self.allow_reset,
            "started": self.started,
            "duration": round(self.duration, 3),
            "summary": {
                "total": len(self.results),
                "passed": self.count(Outcome.PASSED),
                "failed": self.count(Outcome.FAILED),
                "skipped": self.count(Outcome.SKIPPED),
            },
            "ok": self.ok,
            "results": [r.to_dict() for r in self.results],
        }

    def summary(self) -> str:
        return (
            f"{len(self.results)} checks: {self.count(Outcome.PASSED)} passed, "
            f"{self.count(Outcome.FAILED)} failed, {self.count(Outcome.SKIPPED)} skipped "
            f"in {self.duration:.1f} s"
        )


class Session:
    """Everything the checks share about one token during one run."""

    def __init__(
        self,
        device: HalDevice,
        *,
        allow_reset: bool,
        on_touch_needed: Callable[[], None] | None = None,
    ) -> None:
        self.device = device
        self.host = ChipHost(device, on_touch_needed)
        self.allow_reset = allow_reset
        self.pin: str | None = None  # the PIN this run set, if any (never printed)
        self.cache: dict[str, Any] = {}
        self.rp_id = RP_ID

    def __repr__(self) -> str:
        return f"Session({self.device.uri!r}, allow_reset={self.allow_reset})"

    # -- what the token says about itself ------------------------------------------------------

    def info(self) -> Info:
        if not self.host.supports_ctap2():
            raise Skip("the token does not speak CTAP2 (U2F only)")
        return self.host.info

    def require_version(self, version: str) -> None:
        if version not in self.info().versions:
            raise Skip(f"{version} not advertised in getInfo versions")

    def require_option(self, option: str) -> bool:
        options = self.info().options
        if option not in options:
            raise Skip(f"option {option!r} not advertised in getInfo")
        return bool(options[option])

    def require_extension(self, extension: str) -> None:
        if extension not in self.info().extensions:
            raise Skip(f"extension {extension!r} not advertised in getInfo")

    def require_pin(self) -> str:
        if self.pin is None:
            if self.host.pin_is_set():
                raise Skip("the token has a PIN this run does not know (run with --allow-reset)")
            raise Skip("no PIN set in this run (needs --allow-reset)")
        return self.pin

    def new_pin(self) -> str:
        return secrets.token_hex(4)

    # -- credentials ---------------------------------------------------------------------------

    @staticmethod
    def cdh(tag: str = "") -> bytes:
        return hashlib.sha256(tag.encode() + secrets.token_bytes(16)).digest()

    def make(
        self,
        *,
        resident: bool = False,
        alg: int = ES256,
        extensions: dict[str, Any] | None = None,
        rp_id: str | None = None,
        user: dict[str, Any] | None = None,
    ) -> AttestationResponse:
        options = self.host.info.options
        # CTAP 2.0 keys (no makeCredUvNotRqd) want the PIN for every credential once one is set.
        needs_pin = resident or options.get("alwaysUv") or not options.get("makeCredUvNotRqd")
        pin = self.pin if needs_pin else None
        return self.host.make_credential(
            rp_id or self.rp_id,
            self.cdh("mc"),
            user or USER,
            pin=pin,
            resident=resident,
            algorithms=(alg,),
            extensions=extensions,
        )

    def credential(self) -> tuple[bytes, CoseKey]:
        """A non-resident ES256 credential for this run, made once."""
        if "credential" not in self.cache:
            made = self.make()
            data = made.auth_data.credential_data
            expect(data is not None, "makeCredential returned no attested credential data")
            assert data is not None
            self.cache["credential"] = (bytes(data.credential_id), data.public_key)
        found: tuple[bytes, CoseKey] = self.cache["credential"]
        return found

    def power_cycle(self) -> None:
        self.device.power_cycle()
        self.host.refresh()


#: The areas that apply to a U2F-only key.
_WITHOUT_CTAP2 = ("ctaphid", "u2f")


def run(
    checks: Iterable[Check],
    device: HalDevice,
    *,
    allow_reset: bool = False,
    on_result: Callable[[CheckResult], None] | None = None,
    on_touch_needed: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Report:
    """Run the checks in order against one opened token."""
    session = Session(device, allow_reset=allow_reset, on_touch_needed=on_touch_needed)
    report = Report(device.describe(), allow_reset, time.time())
    began = clock()
    gone: str | None = None
    for item in checks:
        start = clock()
        outcome, message = _one(item, session, allow_reset, gone)
        if outcome is Outcome.FAILED and message.startswith("device lost: "):
            gone = message
        result = CheckResult(item.area, item.name, item.title, outcome, message, clock() - start)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    report.duration = clock() - began
    return report


def _one(item: Check, session: Session, allow_reset: bool, gone: str | None) -> tuple[Outcome, str]:
    if gone is not None:
        return Outcome.SKIPPED, "the device was lost earlier in the run"
    if item.destructive and not allow_reset:
        return Outcome.SKIPPED, "destructive: run with --allow-reset"
    if item.area not in _WITHOUT_CTAP2 and not session.host.supports_ctap2():
        return Outcome.SKIPPED, "does not apply: the token does not speak CTAP2 (U2F only)"
    try:
        note = item.func(session)
    except Skip as exc:
        return Outcome.SKIPPED, str(exc)
    except CheckFailed as exc:
        return Outcome.FAILED, str(exc)
    except HalError as exc:
        if exc.code in (HalErrorCode.UNPLUGGED, HalErrorCode.NOT_FOUND):
            return Outcome.FAILED, f"device lost: {exc.message}"
        return Outcome.FAILED, exc.message
    except ChipHostError as exc:
        if exc.code is ChipErrorCode.NOT_SUPPORTED:
            return Outcome.SKIPPED, exc.message
        return Outcome.FAILED, exc.message
    except Exception as exc:  # a check's own bug or an unexpected answer: report, go on
        return Outcome.FAILED, f"{type(exc).__name__}: {exc}"
    return Outcome.PASSED, note or "ok"
