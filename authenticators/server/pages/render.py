"""Rendering: Jinja2 with autoescaping, the page frame's common values, safe headers."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jinja2
from starlette.responses import HTMLResponse

from authenticators.server.pages.strings import LANGUAGES, text

if TYPE_CHECKING:
    from authenticators.server.flows import Flow

TEMPLATES = Path(__file__).parent / "templates"

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    template: str,
    lang: str,
    *,
    flow: Flow | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    other = next(code for code in LANGUAGES if code != lang)
    base = {
        "lang": lang,
        "other_lang": other,
        "switch_url": f"/login/{flow.id}?{urlencode({'lang': other})}" if flow else None,
        "flow": flow,
        "notice": None,
        "notice_key": flow.notice if flow else None,
        "t": lambda key, **values: text(key, lang, **values),
    }
    html = environment().get_template(template).render({**base, **context})
    return HTMLResponse(html, status_code=status, headers=HEADERS)
