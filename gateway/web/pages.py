"""Root browser pages of the /api documents: 000's sign-in, sign-out and /developer.

Their errors use the /api envelope (gateway/kernel/contracts.py lists these paths as WEB).
"""

from __future__ import annotations

from aiohttp import web

from gateway.web import gpt_connect
from gateway.web.developer import developer_page, revoke_sign_in, sign_out_everywhere
from gateway.web.login import login, login_form, logout


def setup_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    router.add_get(prefix + "/login", login_form)
    router.add_post(prefix + "/login", login)
    router.add_post(prefix + "/logout", logout)
    router.add_get(prefix + "/developer", developer_page)
    router.add_post(prefix + "/developer/sign-ins/revoke", revoke_sign_in)
    router.add_post(prefix + "/developer/sign-out-everywhere", sign_out_everywhere)
    gpt_connect.setup_routes(router, prefix)
