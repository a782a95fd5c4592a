"""The OpenAPI document and the control API's routes come from the same declarations."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Route

from authenticators.server.app import create_app, prepare_state
from authenticators.server.config import ServerConfig
from authenticators.server.openapi import openapi_document

PAGES = {"/emulator/", "/emulator/openapi.json"}  # the start page and the document itself


def test_every_control_route_is_described_and_nothing_else(tmp_path: Path) -> None:
    config = ServerConfig(state_dir=str(tmp_path / "state"), port=0, password_workers=-1)
    prepare_state(config)
    app = create_app(config)
    routes = {
        (method.lower(), route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/emulator/")
        for method in route.methods or ()
        if method != "HEAD" and route.path not in PAGES
    }
    paths = openapi_document(app.state.services)["paths"]
    described = {
        (method, path)
        for path, item in paths.items()
        if path.startswith("/emulator/")
        for method in item
        if method != "parameters"
    }
    assert routes == described
    assert {
        ("delete", "/emulator/nemlogin/sps"),
        ("put", "/emulator/brokers/persons/{uuid}"),
    } <= routes
    for path in {p for _, p in described}:
        for method, op in paths[path].items():
            if method == "parameters":
                continue
            for status, answer in op["responses"].items():
                if status.startswith("4"):  # every refusal is described as an Error
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
