"""Every URL of the browser pages at the root: 000's sign-in, sign-out and /developer, the GPT
connect page, /storage (avatars and the event photos guests may see) and the favicon. The landing
page at `/` is not here: `/` is 002's, whose handler hands browsers to it (landing.py).

Their errors use the /api envelope (gateway/kernel/contracts.py lists these paths as WEB).
"""

from __future__ import annotations

from aiohttp import web

from gateway.web import gpt_connect, media
from gateway.web.developer import developer_page, revoke_sign_in, sign_out_everywhere
from gateway.web.favicon import favicon
from gateway.web.login import login, login_form, logout


def setup_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    router.add_get(prefix + "/login", login_form)
    router.add_post(prefix + "/login", login)
    router.add_post(prefix + "/logout", logout)
    router.add_get(prefix + "/developer", developer_page)
    router.add_post(prefix + "/developer/sign-ins/revoke", revoke_sign_in)
    router.add_post(prefix + "/developer/sign-out-everywhere", sign_out_everywhere)
    router.add_get(prefix + gpt_connect.PATH, gpt_connect.gpt_connect_page)
    router.add_get(prefix + "/storage/{path:.+}", media.serve)
    router.add_get(prefix + "/favicon.ico", favicon)
