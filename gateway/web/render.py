"""The HTML of the browser pages: Jinja2 templates as files in gateway/web/templates/, rendered
through one environment that is built and compiled once, when the pages are imported.

Autoescaping is on for every `.html` template, so whatever comes from a person, the database or
the query string is escaped where it is written out; the page scripts and the style sheet
(`.js`, `.css`) are included verbatim. StrictUndefined makes a value the handler forgot an error
instead of an empty string. One typed function per page names what each template needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from gateway.kernel.openapi.serve import Published

TEMPLATE_DIR = Path(__file__).with_name("templates")
PAGES = ("landing.html", "login.html", "developer.html", "gpt_sign_in.html", "gpt_consent.html", "gpt_error.html")

environment = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # the templates ship with the code: no file-system check for changes on every render
    auto_reload=False,
)
# Compiled at import: a broken template stops the gateway at start, not a person's first visit.
_templates: dict[str, Template] = {name: environment.get_template(name) for name in PAGES}


def render(template: str, /, **context: Any) -> str:
    # positional-only: `name` is a value some pages show
    return _templates[template].render(context)


def landing_page(
    *, nonce: str, environment: str, documents: Sequence[Published], status_path: str, status_url: str
) -> str:
    return render(
        "landing.html",
        nonce=nonce,
        environment=environment,
        documents=documents,
        status_path=status_path,
        status_url=status_url,
    )


def login_page(*, nonce: str, next_url: str, email: str = "", error: str | None = None, xsrf: str | None = None) -> str:
    return render("login.html", nonce=nonce, next_url=next_url, email=email, error=error, xsrf=xsrf)


def developer_page(
    *,
    nonce: str,
    xsrf: str,
    user_label: str,
    tokens: Sequence[dict[str, Any]],
    available: Sequence[str],
    default: Iterable[str],
    sign_ins: Sequence[dict[str, Any]] = (),
) -> str:
    return render(
        "developer.html",
        nonce=nonce,
        xsrf=xsrf,
        user_label=user_label,
        tokens=tokens,
        available=available,
        default=frozenset(default),
        sign_ins=sign_ins,
    )


def gpt_sign_in_page(*, nonce: str, session_id: str, session_sig: str, next_url: str, xsrf: str | None) -> str:
    return render(
        "gpt_sign_in.html", nonce=nonce, session_id=session_id, session_sig=session_sig, next_url=next_url, xsrf=xsrf
    )


def gpt_consent_page(
    *,
    nonce: str,
    session_id: str,
    session_sig: str,
    xsrf: str,
    name: str,
    email: str,
    verified: bool,
    cancel_url: str,
    link_sent: bool = False,
) -> str:
    """`link_sent`: an unverified account has a working verification link out (the page says so
    only then)."""
    return render(
        "gpt_consent.html",
        link_sent=link_sent,
        cancel_url=cancel_url,
        nonce=nonce,
        session_id=session_id,
        session_sig=session_sig,
        xsrf=xsrf,
        name=name,
        email=email,
        verified=verified,
    )


def gpt_error_page(*, nonce: str, title: str, message: str) -> str:
    return render("gpt_error.html", nonce=nonce, title=title, message=message)
