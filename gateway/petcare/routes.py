"""Every URL of 002 (pet care). 002 lives at the root by default, so its routes go on the root
router under PETCARE_PREFIX."""

from __future__ import annotations

from aiohttp import web

from gateway.petcare import accounts, google_login, status


def setup_routes(router: web.UrlDispatcher, prefix: str = "") -> None:
    # the document's status endpoint "at `/`": under a prefix, `{prefix}/` (the root keeps the landing page)
    router.add_get(prefix + "/", status.api_status)
    router.add_post(prefix + "/user/create", accounts.create_user)
    router.add_get(prefix + "/user/me", accounts.me)
    router.add_post(prefix + "/user/update", accounts.update_user)
    router.add_post(prefix + "/user/reset_password", accounts.reset_password)
    router.add_post(prefix + "/auth/email/login", accounts.email_login)
    router.add_post(prefix + "/auth/access_token", accounts.access_token)
    router.add_post(prefix + "/auth/google/login", google_login.google_login)
