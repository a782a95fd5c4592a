"""``clients add|list|remove --broker NAME``: a broker's clients are its own."""

from __future__ import annotations

import json

from tests.support import Emu, assert_user_error


def test_clients_at_a_broker(emu: Emu) -> None:
    added = emu(
        "clients",
        "add",
        "shop",
        "--broker",
        "criipto",
        "--simulate",
        "--long-claims",
        "--redirect-uri",
        "https://shop.example/cb",
        "--json",
    )
    assert added.exit_code == 0, added.output
    data = json.loads(added.output)
    assert data["broker"] == "idura"
    assert data["simulate"] is True
    assert data["long_claims"] is True
    assert len(data["client_secret"]) >= 16
    # the same ID at another broker, and at the generic issuer, is another client
    assert (
        emu(
            "clients",
            "add",
            "shop",
            "--broker",
            "signaturgruppen",
            "--public",
            "--redirect-uri",
            "https://shop.example/cb",
        ).exit_code
        == 0
    )
    assert emu("clients", "add", "shop", "--redirect-uri", "https://shop.example/cb").exit_code == 0
    listed = emu("clients", "list", "--broker", "idura")
    assert "shop" in listed.output
    assert_user_error(
        emu("clients", "add", "shop", "--broker", "idura", "--redirect-uri", "https://x/cb"),
        "exists",
    )
    assert_user_error(
        emu("clients", "add", "x1y", "--broker", "nemid", "--redirect-uri", "https://x/cb"),
        "unknown broker",
    )
    assert_user_error(
        emu(
            "clients",
            "add",
            "x1y",
            "--broker",
            "idura",
            "--scope",
            "mitid",
            "--redirect-uri",
            "https://x/cb",
        ),
        "unknown scope",
    )
    assert_user_error(
        emu("clients", "add", "x1y", "--simulate", "--redirect-uri", "https://x/cb"), "--broker"
    )
    assert emu("clients", "remove", "shop", "--broker", "idura").exit_code == 0
    assert_user_error(emu("clients", "remove", "shop", "--broker", "idura"), "no client")
    assert "shop" in emu("clients", "list").output
