"""What a broker dialect is: its paths, how it reads a request, what it issues, how it refuses.

A dialect never logs anyone in. The one login core does that, through the same pages and steps as
the generic issuer; a dialect reads the broker's parameters into a :class:`BrokerRequest` and
turns the finished login (a :class:`Person`) into the broker's claims.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import uuid as uuidlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from authenticators.core.identities import Identity
from authenticators.digits import is_digits
from authenticators.protocol import Action, Level, ProtocolError, ReferenceText
from authenticators.server.oidc.models import Authentication

if TYPE_CHECKING:
    from authenticators.server.brokers.state import BrokerClient


SIGNATORY_ROLES = {"signatory", "signer"}


class BrokerError(Exception):
    """A request the broker refuses: ``error`` is its code (machine-readable), as it sends it.

    ``redirect`` says whether the broker sends the browser back to the client with the error
    (else it shows an error page, as brokers do for a bad client, redirect URI or IdP).
    """

    def __init__(self, error: str, description: str, *, redirect: bool = True) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect = redirect


@dataclass(frozen=True)
class Simulation:
    """A login without pages (the brokers' paid "no-UI" simulation): who, and with which kind."""

    uuid: str | None = None
    user_id: str | None = None
    cpr: str | None = None
    kind: str = "app"


@dataclass(frozen=True)
class BrokerRequest:
    """A broker's authorization request read into what the login core needs."""

    level: Level = Level.SUBSTANTIAL
    business: bool = False
    business_optional: bool = False
    reference_text: str = ""
    action: Action = Action.LOG_ON
    hint_uuid: str | None = None
    hint_cvr: str | None = None
    cpr_hint: str | None = None
    cpr_match: bool = False  # the service asked for the CPR number: prompt for it and match
    simulation: Simulation | None = None


@dataclass(frozen=True)
class Paths:
    """Endpoint paths under a dialect's issuer."""

    authorize: str
    token: str
    userinfo: str
    jwks: str
    discovery: str = "/.well-known/openid-configuration"
    par: str = ""  # pushed authorization requests (RFC 9126), when the broker takes them
    end_session: str = ""  # RP-initiated logout, when the broker offers it


@dataclass(frozen=True)
class Person:
    """A finished login as a dialect sees it: the identity, how it logged in, what it was shown."""

    identity: Identity
    auth: Authentication
    broker: str

    @property
    def level(self) -> Level:
        return Level(self.auth.level)

    @property
    def reached(self) -> Level:
        """The NSIS level reached (a business login is substantial)."""
        return Level.SUBSTANTIAL if self.level is Level.BUSINESS else self.level

    def detail(self, name: str, default: str = "") -> str:
        return dict(self.auth.details).get(name, default)

    @property
    def given_name(self) -> str:
        return self.identity.name.rsplit(" ", 1)[0] if " " in self.identity.name else ""

    @property
    def family_name(self) -> str:
        return self.identity.name.rsplit(" ", 1)[-1]

    @property
    def signatory(self) -> bool:
        """A business login by someone who may sign for the company (role signatory/signer)."""
        return self.auth.business and bool(SIGNATORY_ROLES & set(self.auth.roles))

    @property
    def protected(self) -> bool:
        """Name and address protection (an emulator-side flag on the identity)."""
        return self.detail("protected") == "true"

    def age(self, now: float) -> int | None:
        if not self.identity.birthdate:
            return None
        born = dt.date.fromisoformat(self.identity.birthdate)
        today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def pseudonym(self, salt: str) -> uuidlib.UUID:
        """A stable per-broker pseudonym of the person (a version 4 UUID, as brokers issue)."""
        raw = bytearray(hashlib.sha256(f"{salt}|{self.identity.uuid}".encode()).digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        return uuidlib.UUID(bytes=bytes(raw))

    def professional_uuid(self) -> str:
        """The MitID Erhverv identity of the person at the company (not their private UUID)."""
        return str(self.pseudonym(f"erhverv:{self.auth.cvr}"))


@dataclass
class Dialect:
    """One broker: data (paths, scopes, lifetimes, errors) and a few small mappings.

    Subclasses override :meth:`parse`, :meth:`id_token_claims` and :meth:`userinfo_claims`.
    """

    name: str
    title: str
    mounts: tuple[str, ...]  # the first is the dialect's own name, others aliases (criipto)
    base: str  # the issuer's path below /brokers/<mount> (or /brokers/<directory>)
    paths: Paths
    scopes: tuple[str, ...]
    acr_values: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    id_token_lifetime: int = 3600
    access_token_lifetime: int = 3600
    require_nonce: bool = False
    cancel_error: str = "access_denied"
    cancel_description: str = "The user cancelled the login."
    extra_discovery: dict[str, Any] = field(default_factory=dict)
    directory: str = ""  # the folder under /brokers when not the mount name (two of one broker)
    # Choices where the broker's documentation is not definite: name -> (default, allowed values;
    # empty when any text will do). Set with `serve --broker-option DIALECT.NAME=VALUE`.
    choices: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    chosen: dict[str, str] = field(default_factory=dict)

    def choice(self, name: str) -> str:
        return self.chosen.get(name, self.choices[name][0])

    def configured(self, settings: Mapping[str, str]) -> Dialect:
        """This dialect with ``settings`` (name -> value) applied; raises ValueError when a
        name or value is not one of its choices."""
        chosen = dict(self.chosen)
        for name, value in settings.items():
            if name not in self.choices:
                known = ", ".join(sorted(self.choices)) or "none"
                raise ValueError(f"broker {self.name} has no option {name!r} (it has: {known})")
            allowed = self.choices[name][1]
            if allowed and value not in allowed:
                raise ValueError(f"broker option {self.name}.{name} is one of {', '.join(allowed)}")
            chosen[name] = value
        return replace(
            self,
            chosen=chosen,
            cancel_error=chosen.get("cancel_error", self.cancel_error),
            cancel_description=chosen.get("cancel_description", self.cancel_description),
        )

    def parse(self, data: Mapping[str, str]) -> BrokerRequest:
        """The request's broker parameters; raises :class:`BrokerError` as the broker refuses."""
        raise NotImplementedError

    def wants_simulation(self, data: Mapping[str, str]) -> bool:
        """Whether the request asks for the no-UI path (the dialect's own way of saying so)."""
        return wants_no_ui(data)

    def id_token_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        raise NotImplementedError

    def userinfo_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        raise NotImplementedError


# -- small readers the dialects share ---------------------------------------------------------


def shown(value: str, limit: int = 80) -> str:
    """A caller's value as an error description may carry it (printable ASCII, no quotes)."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in value[:limit])


def reference_body(value: str, error: str = "invalid_request") -> str:
    """base64 or base64url of UTF-8 reference text (at most 130 characters)."""
    padded = value + "=" * (-len(value) % 4)
    try:
        raw = (
            base64.urlsafe_b64decode(padded)
            if "-" in value or "_" in value
            else base64.b64decode(padded, validate=True)
        )
        text = raw.decode("utf-8")
        return ReferenceText(body=text).body
    except (binascii.Error, ValueError):
        raise BrokerError(error, "The reference text is not base64 of UTF-8 text.") from None
    except ProtocolError as exc:
        raise BrokerError(error, exc.message) from None


def action_of(value: str, error: str = "invalid_request") -> Action:
    try:
        return Action(value.upper())
    except ValueError:
        names = ", ".join(a.value.lower() for a in Action)
        raise BrokerError(error, f"Unknown action '{shown(value)}'; use one of {names}.") from None


def uuid_of(value: str, what: str, error: str = "invalid_request") -> str:
    try:
        return str(uuidlib.UUID(value.strip("{}")))
    except ValueError:
        raise BrokerError(error, f"{what} needs a UUID.") from None


def cpr_of(value: str, what: str, error: str = "invalid_request") -> str:
    digits = value.replace("-", "")
    if not is_digits(digits, 10):
        raise BrokerError(error, f"{what} takes a CPR number of 10 digits.")
    return digits


def epoch_ms(seconds: float) -> int:
    return int(seconds * 1000)


def iso_utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SIMULATION_PARAM = "simulation"
SIMULATION_KINDS = ("app",)


def simulation_of(value: str, hint_uuid: str | None, error: str = "invalid_request") -> Simulation:
    """``simulation=no-ui uuid:<GUID> username:<user ID> cpr:<10 digits> method:app``.

    The person may also come from the dialect's own hint (``hint_uuid``).
    """
    words = value.split()
    if not words or words[0] != "no-ui":
        raise BrokerError(error, "'simulation' starts with 'no-ui' (or 'ui' for the pages).")
    uuid, user_id, cpr, kind = hint_uuid, None, None, "app"
    for word in words[1:]:
        style, _, rest = word.partition(":")
        if style in ("uuid", "mitid_erhverv_uuid"):
            uuid = uuid_of(rest, "simulation 'uuid:'", error)
        elif style == "username":
            user_id = rest[:64]
        elif style == "cpr":
            cpr = cpr_of(rest, "simulation 'cpr:'", error)
        elif style == "method":
            if rest not in SIMULATION_KINDS:
                raise BrokerError(
                    error,
                    f"simulation 'method:{shown(rest)}' is not offered; the no-UI path uses "
                    "the app (the emulator approves it).",
                )
            kind = rest
        else:
            raise BrokerError(error, f"simulation word '{shown(style)}' is unknown.")
    if uuid is None and user_id is None and cpr is None:
        raise BrokerError(error, "simulation names nobody: add uuid:, username: or cpr:.")
    return Simulation(uuid, user_id, cpr, kind)


def wants_no_ui(data: Mapping[str, str]) -> bool:
    return (data.get(SIMULATION_PARAM) or "").split()[:1] == ["no-ui"]


def parse_options(entries: Iterable[str], dialects: Mapping[str, Dialect]) -> dict[str, Dialect]:
    """``DIALECT.NAME=VALUE`` entries applied to the dialects they name (mount names too);
    raises ValueError saying what is wrong."""
    settings: dict[str, dict[str, str]] = {}
    for entry in entries:
        target, equals, value = entry.partition("=")
        name, dot, option = target.partition(".")
        if not (equals and dot and name and option):
            raise ValueError(f"broker option {entry!r} is not DIALECT.NAME=VALUE")
        if name not in dialects:
            raise ValueError(f"broker option {entry!r}: no broker {name!r}")
        settings.setdefault(dialects[name].name, {})[option] = value
    return {
        mount: dialect.configured(settings.get(dialect.name, {}))
        for mount, dialect in dialects.items()
    }
