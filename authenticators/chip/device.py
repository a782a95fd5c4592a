"""The device side of a chip login: an assertion from the enrolled token, over its URI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authenticators.chip.host import ChipHost
from authenticators.chip.records import ChipRecord
from authenticators.chip.webauthn import KIND, client_data_for, response_payload
from authenticators.clock import Clock
from authenticators.hal import open_device
from authenticators.protocol import Challenge, ErrorCode, ProtocolError, Response, UserAction
from authenticators.store import Store

_TOUCHES = (UserAction.TOUCH, UserAction.PRESS_BUTTON, UserAction.APPROVE)


class ChipHolder:
    """The person holding an enrolled chip: touches it when a login asks."""

    def __init__(
        self,
        store: Store,
        record: ChipRecord,
        clock: Clock,
        *,
        pin: str | None = None,
        on_touch_needed: Callable[[], None] | None = None,
        hid_backend: Any = None,
    ) -> None:
        self.store = store
        self.record = record
        self.clock = clock
        self._pin = pin
        self.on_touch_needed = on_touch_needed
        self.hid_backend = hid_backend

    def __repr__(self) -> str:
        return f"ChipHolder({self.record.name!r}, uri={self.record.uri!r})"

    def respond(self, challenge: Challenge, action: UserAction) -> Response:
        if action not in _TOUCHES:
            raise ProtocolError(
                ErrorCode.UNSUPPORTED_ACTION,
                f"a chip answers a touch only, not {action.value}",
            )
        record = self.record
        client_data = client_data_for(challenge, record.rp_id)
        with open_device(
            record.uri, store=self.store, clock=self.clock, hid_backend=self.hid_backend
        ) as device:
            host = ChipHost(device, self.on_touch_needed)
            assertion = host.get_assertion(
                record.rp_id,
                client_data.hash,
                [record.credential_id],
                pin=self._pin if record.uv_required else None,
            )
        return Response(
            transaction_id=challenge.transaction_id,
            kind=KIND,
            authenticator_id=record.name,
            payload=response_payload(assertion, client_data, record.credential_id),
        )
