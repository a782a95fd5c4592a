"""The README's recipe for another project's tests runs as written, with the plugin's fixtures."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readmes_test_recipe_runs(
    mitid_server: Any, mitid_client: Any, mitid_identity: Any, mitid_browser: Any
) -> None:
    text = README.read_text()
    section = text[text.index("**In another project's tests**") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "the recipe's code block is missing"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    namespace["test_login"](mitid_server, mitid_client, mitid_identity, mitid_browser)


def test_the_tour_runs_in_order_as_written() -> None:
    """Each command that names a token comes after the one that makes it."""
    text = README.read_text()
    made = text.index("mitid-emu codeviser new --name my-token")
    for use in re.finditer(r"mitid-emu identity add-authenticator alice codeviser my-token", text):
        assert use.start() > made, "add-authenticator before the token exists"
    assert "mitid-emu audit" in text
