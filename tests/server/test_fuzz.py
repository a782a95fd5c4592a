"""Property-based fuzzing of the control API and the OIDC endpoints from the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    state = tmp_path_factory.mktemp("fuzz-state")
    with ServerThread(ServerConfig(state_dir=str(Path(state)), port=0)) as server:
        yield server


@pytest.mark.slow
def test_no_request_from_the_openapi_document_gets_a_500(fuzz_server: ServerThread) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/emulator/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_server.admin_token}"}
    failures: list[str] = []
    for operation in schema.get_all_operations():
        fuzz(operation.ok(), headers, failures)()
    assert not failures, failures


def fuzz(op: Any, headers: dict[str, str], failures: list[str]) -> Callable[[], None]:
    """A hypothesis test of one operation: every generated request, never a 5xx."""

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=op.as_strategy())
    def check(case: schemathesis.Case) -> None:
        if "Authorization" in (case.headers or {}):
            case.headers = {k: v for k, v in case.headers.items() if k != "Authorization"}
        response = case.call(headers=headers, timeout=10)
        if response.status_code >= 500:
            failures.append(
                f"{op.method.upper()} {op.path}: {response.status_code} {response.text[:200]}"
            )

    result: Callable[[], None] = check
    return result
