"""GET /developer: the server-rendered token page for a signed-in person."""

from __future__ import annotations

import re

from tests.builders import bearer, make_token
from tests.web.session_helpers import forget_cookies, signed_in_user


async def test_anonymous_is_sent_to_sign_in(client):
    forget_cookies(client)
    resp = await client.get("/developer", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/login?next=/developer"


async def test_a_token_is_not_a_session(client):
    signed = await signed_in_user(client)
    token = await make_token(client.app, signed.user["id"], abilities=("*",))
    resp = await client.get("/developer", headers=bearer(token), allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/login?next=/developer"


async def test_page_lists_the_managed_tokens(client):
    signed = await signed_in_user(client, name="Mai Tran")
    uid = signed.user["id"]
    await make_token(client.app, uid, name="ci-deploy", abilities=("read", "create"))
    await make_token(client.app, uid, name="gpt-connector", kind="gpt", abilities=("pet:read",))
    await make_token(client.app, uid, name="a-login-token", kind="login")
    resp = await client.get("/developer", cookies=signed.cookies)
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert "ci-deploy" in html and "read, create" in html
    assert "gpt-connector" in html
    # a sign-in's token is not an API token: it is listed (and revocable) under sign-ins
    api_rows = html.split('<tbody id="tokens">')[1].split("</tbody>")[0]
    sign_in_rows = html.split('<tbody id="sign-ins">')[1].split("</tbody>")[0]
    assert "a-login-token" not in api_rows and "gpt-connector" in api_rows
    assert "a-login-token" in sign_in_rows and "gpt-connector" not in sign_in_rows
    assert "Mai Tran" in html and signed.user["email"] in html
    assert "Never" in html  # last used
    # the create form: every permission, `read` pre-checked and nothing else
    boxes = re.findall(r'<input type="checkbox" name="permissions" value="([^"]+)"( checked)?>', html)
    assert [b[0] for b in boxes] == [
        "pet:read", "pet:write", "health:read", "health:write", "profile:read", "create", "read", "update", "delete",
    ]
    assert [b[0] for b in boxes if b[1]] == ["read"]
    # one-time display with copy, download and confirm
    assert '<dialog id="new-token"' in html
    assert 'id="copy-token"' in html and 'id="download-token"' in html and 'id="confirm-saved"' in html
    assert "navigator.clipboard.writeText" in html and "data:text/plain" in html
    assert 'data-revoke="' in html
    # the sign-out form carries the session's XSRF value
    assert f'name="_token" value="{signed.xsrf}"' in html


async def test_page_is_locked_down_and_renews_the_cookies(client):
    signed = await signed_in_user(client)
    resp = await client.get("/developer", cookies=signed.cookies)
    html = await resp.text()
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in html and f'<style nonce="{nonce}">' in html
    assert "<script src" not in html and "https://" not in html
    assert re.findall(r"<link[^>]*>", html) == ['<link rel="icon" href="/favicon.ico">']  # our own icon only
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.cookies["roost_session"].value == signed.session_id
    assert resp.cookies["XSRF-TOKEN"].value == signed.xsrf
    # a different nonce each time
    again = await client.get("/developer", cookies=signed.cookies)
    assert re.search(r"'nonce-([^']+)'", again.headers["Content-Security-Policy"]).group(1) != nonce


async def test_everything_rendered_is_escaped(client):
    signed = await signed_in_user(client, name='<img src=x onerror="alert(1)">')
    resp = await client.post(
        "/api/user/api-tokens",
        json={"name": '<script>alert("x")</script>'},
        cookies=signed.cookies,
        headers=signed.headers,
    )
    assert resp.status == 201
    html = await (await client.get("/developer", cookies=signed.cookies)).text()
    assert "<script>alert" not in html
    # markupsafe (Jinja2's autoescape) writes a quote as &#34;
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


async def test_revoked_and_created_tokens_show_up(client):
    signed = await signed_in_user(client)
    created = await client.post(
        "/api/user/api-tokens", json={"name": "short-lived"}, cookies=signed.cookies, headers=signed.headers
    )
    token_id = (await created.json())["data"]["token"]["id"]
    html = await (await client.get("/developer", cookies=signed.cookies)).text()
    assert f'data-token-id="{token_id}"' in html
    await client.delete(f"/api/user/api-tokens/{token_id}", cookies=signed.cookies, headers=signed.headers)
    html = await (await client.get("/developer", cookies=signed.cookies)).text()
    assert f'data-token-id="{token_id}"' not in html
    assert "You have no API tokens yet." in html


async def test_signed_out_session_is_sent_to_sign_in(client):
    signed = await signed_in_user(client)
    await client.post("/logout", cookies=signed.cookies, headers=signed.headers)
    forget_cookies(client)
    resp = await client.get("/developer", cookies=signed.cookies, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/login?next=/developer"
