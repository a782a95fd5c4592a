"""The login pages: accessible forms, Danish and English, and a clear page for every failure."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.pages.strings import table
from authenticators.server.testing import BrowserLogin, Callback, Page


class Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.labels: set[str] = set()
        self.lang = ""
        self.autofocus = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "input" and a.get("type") != "hidden":
            self.inputs.append(a)
        if tag == "label" and "for" in a:
            self.labels.add(a["for"])
        if "autofocus" in a:
            self.autofocus += 1


def accessible(page: Page, lang: str = "da") -> None:
    """Every visible input has a label, one control has focus, the page names its language."""
    parsed = Inputs()
    parsed.feed(page.html)
    assert parsed.lang == lang
    assert parsed.inputs
    for field in parsed.inputs:
        assert field.get("id") in parsed.labels, field
    assert parsed.autofocus == 1
    assert '<main id="content"' in page.html
    assert 'href="#content"' in page.html


def walk(browser: BrowserLogin, url: str) -> Page:
    page = browser.open(url)
    assert isinstance(page, Page)
    return page


def test_every_stage_is_accessible_in_danish(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    page = walk(mitid_browser, mitid_client.authorization_request().url)
    assert page.stage == "user_id"
    accessible(page)
    assert table()["user_id_label"]["da"] in page.html
    assert 'autocomplete="username"' in page.html
    page = mitid_browser.submit(page, user_id=mitid_identity.user_id)
    assert isinstance(page, Page)
    assert page.stage == "method"
    accessible(page)
    assert table()["kind_codeviser"]["da"] in page.html
    assert table()["kind_kodeoplaeser"]["da"] in page.html
    assert page.form
    page = mitid_browser.submit(page, method=page.form.choices["method"][0])
    assert isinstance(page, Page)
    assert page.stage == "step"
    accessible(page)
    assert 'autocomplete="one-time-code"' in page.html
    assert 'inputmode="numeric"' in page.html
    assert "Test Service" in page.html  # the service provider is shown


def test_english_by_ui_locales_and_by_the_language_link(
    mitid_client: MitIDClient,
    mitid_browser: BrowserLogin,
) -> None:
    page = walk(mitid_browser, mitid_client.authorization_request(ui_locales="en-GB da").url)
    accessible(page, "en")
    assert table()["user_id_label"]["en"] in page.html
    page = walk(mitid_browser, mitid_client.authorization_request().url)
    switch = re.search(r'href="(/login/[^"?]+\?lang=en)"', page.html)
    assert switch
    english = mitid_browser.http.get(switch.group(1))
    assert '<html lang="en">' in english.text


def test_a_wrong_code_says_so_and_the_right_one_then_works(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    request = mitid_client.authorization_request(ui_locales="en")
    page = walk(mitid_browser, request.url)
    page = mitid_browser.submit(page, user_id=mitid_identity.user_id)
    assert isinstance(page, Page)
    assert page.form
    page = mitid_browser.submit(
        page, method="codeviser:" + mitid_identity.authenticators["codeviser"]
    )
    assert isinstance(page, Page)
    token = mitid_identity.authenticators["codeviser"]
    code = mitid_server.emulator.fresh_code("codeviser", token)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page = mitid_browser.submit(page, code=wrong, password=mitid_identity.password)
    assert isinstance(page, Page)
    assert page.stage == "step"
    assert page.reason == "wrong_code"
    assert 'role="alert"' in page.html
    assert table()["wrong_code"]["en"] in page.html
    page = mitid_browser.submit(page, code="12ab56", password=mitid_identity.password)
    assert isinstance(page, Page)
    assert page.reason == "code_format"
    page = mitid_browser.submit(page, code=code, password=mitid_identity.password + "x")
    assert isinstance(page, Page)
    assert page.reason == "wrong_password"
    # the right code was used (with the wrong password): a replay now
    page = mitid_browser.submit(page, code=code, password=mitid_identity.password)
    assert isinstance(page, Page)
    assert page.reason == "replayed"
    fresh = mitid_server.emulator.fresh_code("codeviser", token)
    done = mitid_browser.submit(page, code=fresh, password=mitid_identity.password)
    assert isinstance(done, Callback)
    assert done.code


def test_three_wrong_codes_block_the_token_with_a_clear_page(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    page = walk(mitid_browser, mitid_client.authorization_request().url)
    page = mitid_browser.submit(page, user_id=mitid_identity.user_id)
    assert isinstance(page, Page)
    page = mitid_browser.submit(
        page, method="kodeoplaeser:" + mitid_identity.authenticators["kodeoplaeser"]
    )
    code = mitid_server.emulator.fresh_code(
        "kodeoplaeser", mitid_identity.authenticators["kodeoplaeser"]
    )
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        assert isinstance(page, Page)
        page = mitid_browser.submit(page, code=wrong, password=mitid_identity.password)
    assert isinstance(page, Page)
    page = mitid_browser.submit(page, code=code, password=mitid_identity.password)
    assert isinstance(page, Page)
    assert page.stage == "failed"
    assert page.reason == "locked"
    assert table()["locked"]["da"] in page.html
    assert page.form
    assert table()["try_again"]["da"] in page.html
    callback = mitid_browser.cancel(page)
    assert callback.error == "access_denied"


def test_an_unknown_user_id_is_said_on_the_page(
    mitid_client: MitIDClient,
    mitid_browser: BrowserLogin,
) -> None:
    page = walk(mitid_browser, mitid_client.authorization_request().url)
    page = mitid_browser.submit(page, user_id="no-such-person")  # type: ignore[assignment]
    assert isinstance(page, Page)
    assert page.stage == "user_id"
    assert page.reason == "unknown_user"


def test_a_flow_belongs_to_its_browser_and_needs_its_csrf_token(
    mitid_server: MitIDServer,
    mitid_client: MitIDClient,
    mitid_browser: BrowserLogin,
) -> None:
    page = walk(mitid_browser, mitid_client.authorization_request().url)
    assert page.form
    with httpx.Client(base_url=mitid_server.url) as stranger:
        response = stranger.get(page.url)
        assert response.status_code == 400
        assert "session_lost" in response.text
        posted = stranger.post(page.form.action, data={**page.form.fields, "user_id": "x"})
        assert posted.status_code == 403
    forged = mitid_browser.http.post(page.form.action, data={"csrf": "forged", "user_id": "x"})
    assert forged.status_code == 403
    assert "bad_form" in forged.text
    missing = mitid_browser.http.get("/login/not-a-flow")
    assert missing.status_code == 400


@pytest.mark.parametrize("path", ["/nowhere", "/login/x/nothing"])
def test_unknown_pages_are_pages(path: str, mitid_browser: BrowserLogin) -> None:
    response = mitid_browser.http.get(path)
    assert response.status_code in (404, 405)
    assert "<html" in response.text
