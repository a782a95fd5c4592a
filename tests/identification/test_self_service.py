"""The self-service pages, as a browser posts them: register, add an identifier, see them."""

from __future__ import annotations

import re

import httpx

from authenticators.pytest_plugin import MitIDServer, RegisteredIdentity
from firmware_sim.passport import faces


def _form(http: httpx.Client, action: str, lang: str = "da") -> str:
    page = http.get(f"/self-service/{action}", params={"lang": lang})
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _field(html: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">([^<]*)<', html)
    assert found, html
    return found.group(1)


def test_register_in_the_browser(mitid_server: MitIDServer) -> None:
    passport = mitid_server.emulator.create_passport("Holm", "Ida", "1995-05-05")["name"]
    with httpx.Client(base_url=mitid_server.url) as http:
        assert "Få MitID" in http.get("/self-service").text
        csrf = _form(http, "register", "en")
        done = http.post(
            "/self-service/register",
            params={"lang": "en"},
            data={"csrf": csrf, "passport": passport, "user_id": "ida-holm-ss", "pin": "135790",
                  "face_source": "holder"},
        )  # fmt: skip
        assert done.status_code == 200, done.text
        assert "You have MitID" in done.text
        assert _field(done.text, "ial") == "high"
        assert len(_field(done.text, "activation_code")) == 9
    apps = mitid_server.emulator.identity("ida-holm-ss")["authenticators"]
    assert [a["kind"] for a in apps] == ["app"]


def test_enroll_and_see_identifiers_with_an_uploaded_face(
    mitid_server: MitIDServer, mitid_registered_identity: RegisteredIdentity
) -> None:
    person = mitid_registered_identity
    holder_photo = faces.face("Test Person Jensen 1990-01-02")
    with httpx.Client(base_url=mitid_server.url) as http:
        csrf = _form(http, "enroll")
        shot = faces.camera_shot(holder_photo, 5)
        done = http.post(
            "/self-service/enroll",
            data={"csrf": csrf, "passport": person.passport, "user_id": person.user_id,
                  "kind": "codeviser", "face_source": "upload"},
            files={"face": ("me.jpg", shot, "image/jpeg")},
        )  # fmt: skip
        assert done.status_code == 200, done.text
        assert _field(done.text, "added").startswith("codeviser ")
        csrf = _form(http, "identifiers")
        shown = http.post(
            "/self-service/identifiers",
            data={"csrf": csrf, "passport": person.passport, "user_id": person.user_id},
        )
        assert shown.status_code == 200, shown.text
        assert "app " in shown.text
        assert "codeviser " in shown.text
        # Someone else's face: refused, nothing shown.
        stranger = faces.camera_shot(faces.face("a stranger"))
        refused = http.post(
            "/self-service/identifiers",
            data={"csrf": csrf, "passport": person.passport, "user_id": person.user_id,
                  "face_source": "upload"},
            files={"face": ("x.jpg", stranger, "image/jpeg")},
        )  # fmt: skip
        assert refused.status_code == 422
        assert 'data-reason="face_mismatch"' in refused.text
        assert "codeviser " not in refused.text


def test_a_post_without_the_form_token_is_refused(mitid_server: MitIDServer) -> None:
    with httpx.Client(base_url=mitid_server.url) as http:
        answer = http.post("/self-service/register", data={"passport": "x", "user_id": "abc"})
        assert answer.status_code == 403
        assert 'data-reason="csrf"' in answer.text
        assert http.get("/self-service/nothing").status_code == 404
