"""The choices where a broker's documentation is not definite: defaults, options, refusals."""

from __future__ import annotations

import pytest

from authenticators.server.brokers import mounts
from authenticators.server.brokers.base import BrokerError, parse_options
from authenticators.server.brokers.signaturgruppen import Signaturgruppen
from tests.support import Emu, assert_user_error


def test_defaults_and_options() -> None:
    default = parse_options([], mounts())
    assert default["idura"].parse({"login_hint": "appswitch:ios frobnicate"}).level.value == (
        "substantial"
    )
    chosen = parse_options(
        [
            "criipto.unknown_login_hint=refuse",
            "idura.cancel_description=user_cancelled",
            "signaturgruppen.amr=string",
            "signicat.booleans=json",
        ],
        mounts(),
    )
    idura = chosen["idura"]
    assert chosen["criipto"].choice("unknown_login_hint") == "refuse"
    assert idura.cancel_description == "user_cancelled"
    assert idura.parse({"login_hint": "appswitch:ios"}).level.value == "substantial"
    with pytest.raises(BrokerError, match="frobnicate"):
        idura.parse({"login_hint": "frobnicate"})
    neb = chosen["signaturgruppen"]
    assert isinstance(neb, Signaturgruppen)
    assert neb._amr(("code_app",)) == "code_app"
    assert default["signaturgruppen"].choice("amr") == "list"
    assert chosen["signicat"].choice("booleans") == "json"


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("idura", "DIALECT.NAME=VALUE"),
        ("nemid.amr=list", "no broker"),
        ("idura.amr=list", "no option"),
        ("signaturgruppen.amr=set", "one of list, string"),
    ],
)
def test_a_bad_option_is_a_user_error(emu: Emu, entry: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_options([entry], mounts())
    assert_user_error(emu("serve", "--port", "0", "--broker-option", entry), says)
