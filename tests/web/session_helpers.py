"""Signing a browser session in through the real `POST /login`, for any test that needs one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from tests.builders import DEFAULT_PASSWORD, make_user

SESSION_COOKIE = "roost_session"
XSRF_COOKIE = "XSRF-TOKEN"


@dataclass
class SignedIn:
    """A signed-in browser: pass `cookies=` on every request and `headers=` (`X-XSRF-TOKEN`) on
    state-changing ones."""

    user: asyncpg.Record | None
    cookies: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def xsrf(self) -> str:
        return self.cookies[XSRF_COOKIE]

    @property
    def session_id(self) -> str:
        return self.cookies[SESSION_COOKIE]


def forget_cookies(client: Any) -> None:
    """The test client keeps Set-Cookie values in a jar; clear it so each request says exactly
    which cookies it sends."""
    client.session.cookie_jar.clear()


async def sign_in(client: Any, email: str, password: str = DEFAULT_PASSWORD, *, user: Any = None) -> SignedIn:
    resp = await client.post("/login", json={"email": email, "password": password})
    assert resp.status == 200, await resp.text()
    cookies = {name: morsel.value for name, morsel in resp.cookies.items()}
    assert SESSION_COOKIE in cookies and XSRF_COOKIE in cookies
    forget_cookies(client)
    return SignedIn(user=user, cookies=cookies, headers={"X-XSRF-TOKEN": cookies[XSRF_COOKIE]})


async def signed_in_user(client: Any, **fields: Any) -> SignedIn:
    """A new user (tests.builders.make_user) with a browser session."""
    user = await make_user(client.app, **fields)
    return await sign_in(client, user["email"], fields.get("password", DEFAULT_PASSWORD), user=user)
