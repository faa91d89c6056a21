"""GET /gpt-connect: the GPT bridge's consent page (sign in or register, then confirm)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.builders import DEFAULT_PASSWORD, make_user
from tests.pethealth.gpt_helpers import connector_client, new_session, sig
from tests.web.session_helpers import forget_cookies, signed_in_user


@pytest.fixture
async def gpt(aiohttp_client, settings, ray_session):
    return await connector_client(aiohttp_client, settings)


def _page(session: dict[str, str]) -> str:
    return "/gpt-connect?" + urlencode(session)


async def test_anonymous_gets_sign_in_and_register_forms(gpt):
    session = new_session()
    resp = await gpt.get(_page(session))
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert "nonce-" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"
    html = await resp.text()
    assert 'action="/login"' in html
    next_value = "/gpt-connect?" + urlencode(session)
    assert f'name="next" value="{next_value.replace("&", "&amp;")}"' in html
    assert 'id="register-form"' in html and "/api/gpt-auth/register" in html
    assert f'data-session-id="{session["session_id"]}"' in html


async def test_sign_in_form_comes_back_to_the_page(gpt):
    user = await make_user(gpt.app)
    session = new_session()
    next_value = _page(session)
    resp = await gpt.post(
        "/login",
        data={"email": user["email"], "password": DEFAULT_PASSWORD, "next": next_value},
        allow_redirects=False,
    )
    assert resp.status == 302
    location = resp.headers["Location"]
    assert urlsplit(location).path == "/gpt-connect"
    assert parse_qs(urlsplit(location).query) == {k: [v] for k, v in session.items()}


async def test_signed_in_gets_the_consent_step(gpt):
    signed = await signed_in_user(gpt, name="Minh <Anh>")
    session = new_session()
    resp = await gpt.get(_page(session), cookies=signed.cookies)
    assert resp.status == 200
    html = await resp.text()
    assert "Connect Minh &lt;Anh&gt;'s account to ChatGPT?" in html
    assert "<Anh>" not in html
    assert 'id="confirm"' in html and "/api/gpt-auth/confirm" in html and "X-XSRF-TOKEN" in html
    assert f'data-xsrf="{signed.xsrf}"' in html
    # what the page's Confirm button posts works with what the page carries
    forget_cookies(gpt)
    confirm = await gpt.post("/api/gpt-auth/confirm", json=session, cookies=signed.cookies, headers=signed.headers)
    assert confirm.status == 200


async def test_values_from_the_query_are_escaped(gpt):
    session_id = 'x"><script>alert(1)</script>'
    resp = await gpt.get(_page({"session_id": session_id, "session_sig": sig(session_id)}))
    assert resp.status == 200
    html = await resp.text()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize(
    "query",
    [
        {"session_id": "abc", "session_sig": "0" * 64},
        {"session_id": "abc"},
        {},
        {"session_id": "abc", "session_sig": sig("abc", "another-secret")},
    ],
)
async def test_bad_signature_is_an_error_page(gpt, query):
    resp = await gpt.get("/gpt-connect?" + urlencode(query))
    assert resp.status == 400
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert "Invalid or expired GPT connect session." in html
    assert 'action="/login"' not in html


async def test_bad_signature_is_refused_when_signed_in_too(gpt):
    signed = await signed_in_user(gpt)
    resp = await gpt.get("/gpt-connect?session_id=abc&session_sig=" + "0" * 64, cookies=signed.cookies)
    assert resp.status == 400


async def test_unconfigured_connector_is_a_500_page(aiohttp_client, settings, ray_session):
    client = await connector_client(aiohttp_client, settings, gpt_connector_hmac_secret=None)
    resp = await client.get(_page(new_session()))
    assert resp.status == 500
    assert "GPT connector is not configured." in await resp.text()
