"""A SAML login in a real browser (Debian's chromium): the last page posts itself to the ACS."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from authenticators.pytest_plugin import MitIDServer
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (make test)"),
    pytest.mark.timeout(120),
]


@pytest.fixture
def page() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=ARGS, locale="en-GB"
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_the_response_page_posts_itself_to_the_acs(
    mitid_server: MitIDServer, nemlogin_sp: OIOSAMLServiceProvider, page: Any
) -> None:
    emulator = mitid_server.emulator
    emulator.create_identity(
        "saml.browser",
        "Browser Person",
        password="browser-password",
        authenticators=[{"kind": "codeviser", "name": "saml-browser-cv"}],
    )
    posted: list[dict[str, list[str]]] = []

    def acs(route: Any) -> None:
        posted.append(parse_qs(route.request.post_data or ""))
        route.fulfill(status=200, content_type="text/html", body="<h1 id=done>back</h1>")

    page.route(nemlogin_sp.acs_url, acs)
    url, request_id = nemlogin_sp.login_url(relay_state="page-7")
    page.goto(url)
    page.fill("#user_id", "saml.browser")
    page.click("button.primary")
    page.check("input[value='codeviser:saml-browser-cv']")
    page.click("button.primary")
    page.fill("#code", emulator.fresh_code("codeviser", "saml-browser-cv"))
    page.fill("#password", "browser-password")
    page.click("button.primary")  # the last click: the response page submits itself
    deadline = time.monotonic() + 20
    while not posted and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert posted, page.content()
    assert posted[0]["RelayState"] == ["page-7"]
    outcome = nemlogin_sp.validate(posted[0]["SAMLResponse"][0], request_id)
    assert outcome.attribute("FullName") == "Browser Person"
