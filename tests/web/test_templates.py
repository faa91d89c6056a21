"""Every page escapes what it writes out: each template rendered with a hostile value in every
field, and each page served with hostile values from the places they really come from (a token's
name, a person's name, the query string, a typed email)."""

from __future__ import annotations

import inspect
from urllib.parse import urlencode

import jinja2
import pytest

from gateway.web import render
from tests.builders import make_token
from tests.pethealth.gpt_helpers import connector_client, new_session, sig
from tests.web.session_helpers import signed_in_user

SCRIPT = "<script>alert(1)</script>"
QUOTES = "\"'&<>"
HOSTILE = SCRIPT + QUOTES
# markupsafe's spelling (Jinja2's autoescape): quotes as numeric references
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
QUOTES_ESCAPED = "&#34;&#39;&amp;&lt;&gt;"
HOSTILE_ESCAPED = SCRIPT_ESCAPED + QUOTES_ESCAPED


def assert_escaped(html: str, escaped: str = HOSTILE_ESCAPED) -> None:
    assert SCRIPT not in html and QUOTES not in html
    assert escaped in html


def _token(**fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": HOSTILE, "name": HOSTILE, "abilities": [HOSTILE], "created_at": HOSTILE,
        "last_used_at": HOSTILE, "last_used_ago": HOSTILE,
    }
    row.update(fields)
    return row


def _every_string(page) -> dict[str, object]:
    """HOSTILE for each of the page function's string parameters."""
    args: dict[str, object] = {}
    for name, param in inspect.signature(page).parameters.items():
        args[name] = HOSTILE if "str" in str(param.annotation) else param.default
    return args


PAGE_FUNCTIONS = [render.login_page, render.gpt_sign_in_page, render.gpt_consent_page, render.gpt_error_page]


@pytest.mark.parametrize("page", PAGE_FUNCTIONS, ids=lambda f: f.__name__)
def test_every_field_of_a_page_is_escaped(page):
    args = _every_string(page)
    if "verified" in args:
        args["verified"] = False  # the warning that repeats the email is shown too
    html = page(**args)
    assert_escaped(html)
    # each field is written out escaped, none raw: as many escaped copies as there are fields
    assert html.count(HOSTILE_ESCAPED) >= sum(1 for v in args.values() if v == HOSTILE)


def test_every_field_of_the_developer_page_is_escaped():
    html = render.developer_page(
        nonce=HOSTILE,
        xsrf=HOSTILE,
        user_label=HOSTILE,
        tokens=[_token()],
        available=[HOSTILE, "read"],
        default=[HOSTILE],
        sign_ins=[_token(kind=HOSTILE, expires_at=HOSTILE)],
    )
    assert_escaped(html)
    assert f'value="{HOSTILE_ESCAPED}" checked>' in html
    assert f'data-name="{HOSTILE_ESCAPED}"' in html and f'data-sign-in-id="{HOSTILE_ESCAPED}"' in html


def test_a_value_the_handler_forgot_is_an_error_not_a_blank():
    with pytest.raises(jinja2.UndefinedError):
        render.render("login.html", nonce="n", email="", error=None, xsrf=None)  # no next_url


# -- the pages as served ---------------------------------------------------------------------


async def test_login_page_escapes_the_typed_email(client):
    email = f"{QUOTES}@example.test"
    resp = await client.post(
        "/login", data={"email": email, "password": "wrong"}, headers={"Accept": "text/html"}
    )
    assert resp.status == 401 and resp.content_type == "text/html"
    html = await resp.text()
    assert QUOTES not in html
    assert f'value="{QUOTES_ESCAPED}@example.test"' in html


async def test_login_page_escapes_next(client):
    resp = await client.get("/login?" + urlencode({"next": "/developer?" + QUOTES}))
    html = await resp.text()
    assert QUOTES not in html
    assert f'name="next" value="/developer?{QUOTES_ESCAPED}"' in html


async def test_developer_page_escapes_names_of_people_and_tokens(client):
    signed = await signed_in_user(client, name=QUOTES)
    await make_token(client.app, signed.user["id"], name=SCRIPT, abilities=("read",))
    await make_token(client.app, signed.user["id"], name=HOSTILE, kind="login")
    resp = await client.get("/developer", cookies=signed.cookies)
    assert resp.status == 200
    html = await resp.text()
    assert SCRIPT not in html and QUOTES not in html
    api_rows = html.split('<tbody id="tokens">')[1].split("</tbody>")[0]
    sign_in_rows = html.split('<tbody id="sign-ins">')[1].split("</tbody>")[0]
    assert f'<td class="name">{SCRIPT_ESCAPED}</td>' in api_rows
    assert f'data-name="{SCRIPT_ESCAPED}"' in api_rows
    assert f'<td class="name">{HOSTILE_ESCAPED}</td>' in sign_in_rows
    assert f"Signed in as {QUOTES_ESCAPED} ({signed.user['email']})" in html


@pytest.fixture
async def gpt(aiohttp_client, settings, ray_session):
    return await connector_client(aiohttp_client, settings)


async def test_gpt_sign_in_step_escapes_the_query(gpt):
    session_id = HOSTILE
    resp = await gpt.get("/gpt-connect?" + urlencode({"session_id": session_id, "session_sig": sig(session_id)}))
    assert resp.status == 200
    html = await resp.text()
    assert_escaped(html)
    assert f'data-session-id="{HOSTILE_ESCAPED}"' in html


async def test_gpt_consent_step_escapes_the_name(gpt):
    signed = await signed_in_user(gpt, name=HOSTILE)
    resp = await gpt.get("/gpt-connect?" + urlencode(new_session()), cookies=signed.cookies)
    assert resp.status == 200
    html = await resp.text()
    assert_escaped(html)
    assert f"<h1>Connect {HOSTILE_ESCAPED}'s account to ChatGPT?</h1>" in html


async def test_gpt_error_page_shows_nothing_from_the_query(gpt):
    resp = await gpt.get("/gpt-connect?" + urlencode({"session_id": HOSTILE, "session_sig": HOSTILE}))
    assert resp.status == 400
    html = await resp.text()
    assert SCRIPT not in html and SCRIPT_ESCAPED not in html
    assert "Invalid or expired GPT connect session." in html

