"""authenticatorReset (§6.6): everything goes, the counter does not go back. Destructive."""

from __future__ import annotations

from fido2.ctap import CtapError

from authenticators.chip.errors import ChipHostError
from authenticators.chip.selftest.ctap2 import refused_with
from authenticators.chip.selftest.runner import Area, Session, Skip, expect

area = Area("reset")
final = Area("reset")
ERR = CtapError.ERR


def _reset(session: Session) -> None:
    """Reset within the 10-second power-up window: power-cycle simulators first."""
    if session.device.can_power_cycle:
        session.power_cycle()
    try:
        session.host.reset()
    except ChipHostError as exc:
        if exc.ctap == ERR.NOT_ALLOWED:
            raise Skip(
                "reset is allowed only within 10 s of plugging in: replug the key and start "
                "the self-test at once"
            ) from None
        raise
    session.pin = None
    session.cache.pop("credential", None)
    session.cache.pop("hmac", None)
    session.cache.pop("resident", None)


@area.check("reset wipes PIN and credentials; the counter does not go back", destructive=True)
def wipes(session: Session) -> str:
    cred_id, _ = session.credential()
    before = session.host.get_assertion(session.rp_id, session.cdh(), [cred_id]).auth_data.counter
    _reset(session)
    info = session.host.info
    expect(not info.options.get("clientPin", False), "a PIN is still set after reset")
    refused_with(
        ERR.NO_CREDENTIALS,
        lambda: session.host.get_assertion(session.rp_id, session.cdh(), [cred_id]),
    )
    after = session.make().auth_data.counter
    expect(after > before or after == before == 0, f"counter went back {before} -> {after}")
    return f"counter {before} -> {after}"


@final.check("a last reset leaves the token clean", destructive=True)
def cleanup(session: Session) -> None:
    _reset(session)
    expect(not session.host.info.options.get("clientPin", False), "a PIN is still set")
