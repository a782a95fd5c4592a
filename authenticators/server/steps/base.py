"""What a kind's login step provides to the login pages and the control API.

The pages own the order (user ID, method, step, company) and the redirect back; a step owns what
happens between "this method was chosen" and "the core judged the answer": it starts the core's
login transaction, draws its part of the page, takes the form, and may add routes of its own
(browser routes such as polling for push logins, and declared control API endpoints such as
"read the current code"). A kind's step is a package: ``step`` (the login and enrolment), and one
module per other job (``browser``, ``control``, ``phone``); the pieces they share are here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.login import LoginResult
from authenticators.protocol import (
    Challenge,
    ErrorCode,
    Level,
    ProtocolError,
    Reason,
    ReferenceText,
)
from authenticators.server.http import ApiError

if TYPE_CHECKING:
    from authenticators.server.api import Endpoint
    from authenticators.server.context import Services
    from authenticators.server.flows import Flow
    from authenticators.server.http import Fields


@dataclass
class StepContext:
    services: Services
    flow: Flow
    lang: str

    @property
    def level(self) -> Level:
        return Level(self.flow.level)

    @property
    def reference_text(self) -> ReferenceText:
        return ReferenceText.parse(self.flow.reference_text, self.flow.action)


@dataclass(frozen=True)
class StepPage:
    """A template under ``pages/templates`` and what it needs beyond the common frame."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


class OutcomeKind(enum.Enum):
    DONE = "done"  # the core accepted the login
    RETRY = "retry"  # show the step again with a message (a new transaction when restart)
    FAILED = "failed"  # the login cannot go on: a page that says why
    STAY = "stay"  # show the step again as it is (no attempt counted), with an optional notice
    DENIED = "denied"  # the person said no: back to the service with access_denied


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    result: LoginResult | None = None
    reason: str = ""
    detail: str = ""
    restart: bool = True

    @classmethod
    def done(cls, result: LoginResult) -> Outcome:
        return cls(OutcomeKind.DONE, result)

    @classmethod
    def retry(cls, reason: str, *, restart: bool = True, detail: str = "") -> Outcome:
        return cls(OutcomeKind.RETRY, reason=reason, restart=restart, detail=detail)

    @classmethod
    def failed(cls, reason: str, detail: str = "") -> Outcome:
        return cls(OutcomeKind.FAILED, reason=reason, detail=detail)

    @classmethod
    def stay(cls, notice: str = "") -> Outcome:
        return cls(OutcomeKind.STAY, reason=notice, restart=False)

    @classmethod
    def denied(cls, reason: str) -> Outcome:
        return cls(OutcomeKind.DENIED, reason=reason)


class StepFailed(Exception):
    """Raised by :meth:`LoginStep.start` when the login cannot begin; ``reason`` names the page."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


_BEGIN_FAILURES = {
    CoreErrorCode.NO_PASSWORD: "no_password",
    CoreErrorCode.INSUFFICIENT_LEVEL: "insufficient_level",
}


def begin_login(ctx: StepContext, kind: str, extra: dict[str, Any] | None = None) -> Challenge:
    """Start the core's login for this flow; a refusal becomes the matching failure page."""
    flow = ctx.flow
    assert flow.user_id
    try:
        challenge = ctx.services.login.begin(
            flow.user_id,
            kind,
            service_provider=flow.client_name,
            reference_text=ctx.reference_text,
            authenticator_id=flow.authenticator_id,
            level=ctx.level,
            extra=extra,
        )
    except CoreError as exc:
        raise StepFailed(_BEGIN_FAILURES.get(exc.code, "method_not_available")) from None
    except ProtocolError as exc:
        parallel = exc.code is ErrorCode.PARALLEL_SESSION
        raise StepFailed("parallel_session" if parallel else "method_not_available") from None
    flow.transaction_id = challenge.transaction_id
    return challenge


def outcome_of(
    result: LoginResult,
    *,
    retry: frozenset[Reason] = frozenset(),
    deny: frozenset[Reason] = frozenset(),
) -> Outcome:
    """The core's judgement as the pages go on: done, the step again (``retry``: a refusal the
    person can put right), back to the service (``deny``: the person said no), or a failure."""
    if result.ok:
        return Outcome.done(result)
    reason = result.verdict.reason
    if reason in deny:
        return Outcome.denied(reason.value)
    if reason in retry:
        return Outcome.retry(reason.value)
    return Outcome.failed(reason.value, result.verdict.detail)


def password_of(form: Mapping[str, str]) -> str | None:
    """The password typed on a step's form, None when left empty."""
    return form.get("password") or None


def free_name(base: str, suffix: str, exists: Callable[[str], bool]) -> str:
    """A name ``BASE-SUFFIX-N`` for a new authenticator that no other one has."""
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in base)[:40]
    for number in range(1, 1000):
        name = f"{stem}-{suffix}-{number}"
        if not exists(name):
            return name
    raise ApiError(409, "conflict", f"give the {suffix} a name")


STATIC = Path(__file__).resolve().parent.parent / "pages" / "static"


@cache
def _static_text(filename: str) -> str:
    return (STATIC / filename).read_text(encoding="utf-8")


def script_route(url: str, filename: str) -> Route:
    """Serve a step's page script from ``pages/static`` (so ``script-src 'self'`` allows it)."""

    async def script(request: Request) -> Response:
        return Response(
            _static_text(filename),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return Route(url, script, methods=["GET"])


@runtime_checkable
class LoginStep(Protocol):
    """One kind's step, registered in the "authenticators.server" entry-point group."""

    def start(self, ctx: StepContext) -> None:
        """Begin the core's login transaction (set ``ctx.flow.transaction_id``).

        Raises :class:`StepFailed` when the login cannot begin.
        """
        ...

    def page(self, ctx: StepContext) -> StepPage: ...

    def submit(self, ctx: StepContext, form: Mapping[str, str]) -> Outcome: ...

    def enroll(self, services: Services, kind: str, user_id: str, fields: Fields) -> dict[str, Any]:
        """Make an authenticator of ``kind`` for ``user_id`` (the control API's enroll call)."""
        ...

    def enroll_fields(self, kind: str) -> dict[str, Any]:
        """The JSON schema properties :meth:`enroll` accepts, for the OpenAPI document."""
        ...

    def routes(self) -> list[BaseRoute]:
        """The browser's routes of this kind (its page script, polling, ...)."""
        ...

    def endpoints(self) -> list[Endpoint]:
        """This kind's control API operations under ``/emulator/`` (routes and OpenAPI)."""
        ...
