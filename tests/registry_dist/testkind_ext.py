"""A kind that lives only in a test distribution: everything the house offers it comes from its
entry points (see ``mitid_testkind-1.0.dist-info/entry_points.txt`` beside this file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click
from starlette.routing import BaseRoute

from authenticators.protocol import Enrollment, Level

KIND = "testkind"


@dataclass(frozen=True)
class Options:
    name: str = "t1"


class Plugin:
    kind = KIND
    amr = "test_amr"
    levels = frozenset(Level)
    needs_password = False

    def enroll_options(self, fields: Mapping[str, Any]) -> Options:
        return Options(str(fields.get("name", "t1")))

    def enroll(self, store: Any, clock: Any, options: Options) -> Enrollment:
        return Enrollment(KIND, options.name, {})

    def load(self, store: Any, authenticator_id: str) -> Enrollment:
        return Enrollment(KIND, authenticator_id, {})

    def save_state(self, store: Any, enrollment: Enrollment, verdict: Any) -> None:
        pass

    def authenticator(self, store: Any, authenticator_id: str, clock: Any) -> Any:
        raise NotImplementedError

    def verifier(self) -> Any:
        raise NotImplementedError


class Step:
    def start(self, ctx: Any) -> None:
        raise NotImplementedError

    def page(self, ctx: Any) -> Any:
        raise NotImplementedError

    def submit(self, ctx: Any, form: Mapping[str, str]) -> Any:
        raise NotImplementedError

    def enroll(self, services: Any, kind: str, user_id: str, fields: Any) -> dict[str, Any]:
        name = fields.req_text("name", max_length=64)
        services.identities.add_authenticator(user_id, kind, name)
        return {"kind": kind, "id": name}

    def enroll_fields(self, kind: str) -> dict[str, Any]:
        return {"name": {"type": "string", "maxLength": 64}}

    def routes(self) -> list[BaseRoute]:
        return []

    def endpoints(self) -> list[Any]:
        return []


@click.group(name=KIND)
def cli() -> None:
    """The test distribution's kind."""


plugin = Plugin()
step = Step()
strings = {"kind_testkind": {"da": "Prøvemiddel", "en": "Test means"}}
