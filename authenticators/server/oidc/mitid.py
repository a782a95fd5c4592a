"""The MitID broker parameters of an authorization request: acr_values and login_hint.

``acr_values`` names the level (``urn:grn:authn:dk:mitid:low|substantial|high|business``); when
several are listed the lowest is the minimum, and ``business`` asks for a MitID Erhverv login.
``login_hint`` takes the brokers' styles, space-separated: ``uuid:<identity uuid>``,
``message:<base64 reference text>`` and ``vatid:DK<CVR>`` (a business login for that company).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidRequestError

from authenticators.protocol import Level, ProtocolError, ReferenceText

ACR_VALUES = tuple(level.acr for level in Level)
_VATID = re.compile(r"DK([1-9]\d{7})")
MAX_STATE = 2048


@dataclass(frozen=True)
class MitIDOptions:
    level: Level
    business: bool
    reference_text: str
    hint_uuid: str | None = None
    hint_cvr: str | None = None


def parse_options(data: Mapping[str, str], default_level: Level) -> MitIDOptions:
    """Check the MitID parameters; each mistake is an ``invalid_request`` naming it."""
    mode = data.get("response_mode")
    if mode and mode != "query":
        raise InvalidRequestError("Only 'response_mode=query' is supported.")
    state = data.get("state")
    if state is not None and len(state) > MAX_STATE:
        raise InvalidRequestError(f"'state' is longer than {MAX_STATE} characters.")
    level, business = _level(data.get("acr_values"), default_level)
    reference = ""
    hint_uuid: str | None = None
    hint_cvr: str | None = None
    for hint in (data.get("login_hint") or "").split():
        style, _, value = hint.partition(":")
        if style == "uuid":
            try:
                hint_uuid = str(uuidlib.UUID(value))
            except ValueError:
                raise InvalidRequestError("login_hint 'uuid:' needs an identity UUID.") from None
        elif style == "message":
            reference = _message(value)
        elif style == "vatid":
            match = _VATID.fullmatch(value)
            if not match:
                raise InvalidRequestError("login_hint 'vatid:' takes DK and a CVR number.")
            hint_cvr = match.group(1)
            business = True
        else:
            raise InvalidRequestError(
                f"login_hint style '{_shown(style)}' is unknown; "
                "use uuid:, message: or vatid:DK<CVR>."
            )
    if business:
        level = Level.BUSINESS
    return MitIDOptions(level, business, reference, hint_uuid, hint_cvr)


def _shown(value: str, limit: int = 80) -> str:
    """A caller's value as an error description may carry it (RFC 6749: printable ASCII
    without '"' and '\\'); anything else becomes '?'."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in value[:limit])


def _level(acr_values: str | None, default: Level) -> tuple[Level, bool]:
    if not acr_values:
        return default, default is Level.BUSINESS
    levels: list[Level] = []
    for value in acr_values.split():
        if value not in ACR_VALUES:
            raise InvalidRequestError(
                f"acr value '{_shown(value)}' is unknown; use one of {', '.join(ACR_VALUES)}."
            )
        levels.append(Level.from_acr(value))
    business = Level.BUSINESS in levels
    others = [lvl for lvl in levels if lvl is not Level.BUSINESS]
    lowest = min(others, key=lambda lvl: lvl.rank) if others else Level.SUBSTANTIAL
    return lowest, business


def _message(value: str) -> str:
    padded = value + "=" * (-len(value) % 4)
    try:
        raw = (
            base64.urlsafe_b64decode(padded)
            if "-" in value or "_" in value
            else base64.b64decode(padded, validate=True)
        )
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidRequestError(
            "login_hint 'message:' takes base64 of UTF-8 reference text."
        ) from None
    try:
        return ReferenceText(body=text).body
    except ProtocolError as exc:
        raise InvalidRequestError(f"login_hint 'message:': {exc.message}") from None
