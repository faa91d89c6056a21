"""Every URL of 003 (accounts) on the /api mount: register/login, OAuth, verification, password
reset, profile, avatar, ping, AI generation, maps, mail, admin migrate.

The composition root (gateway/app.py) mounts these and 000's (gateway/pethealth/routes.py) on one
/api sub-application, 003's first (the order they were always registered in).
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from gateway.accounts import (
    admin_migrate,
    ai,
    avatar,
    mail_routes,
    maps,
    oauth,
    password_reset,
    profile,
    register_login,
    verification,
)
from gateway.kernel import api_envelope
from gateway.kernel.oauth_providers import PROVIDER_PATTERN
from gateway.kernel.openapi.operation import documented

# {provider} in a path: google or github, anything else is the router's 404
PROVIDER = "{provider:" + PROVIDER_PATTERN + "}"


class Ping(BaseModel):
    status: Literal["ok"]


@documented("Reachability check", response=Ping)
async def ping(request: web.Request) -> web.Response:
    """GET /api/ping, reachability for clients (no dependency checks; /readyz does those)."""
    return api_envelope.success({"status": "ok"}, "OK")


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ping", ping)

    router.add_post("/auth/register", register_login.register)
    router.add_post("/auth/login", register_login.login)
    router.add_post("/auth/logout", register_login.logout)

    router.add_get("/user", profile.show)
    router.add_put("/user", profile.update)
    router.add_delete("/user", profile.destroy)
    router.add_post("/user/email/revert", profile.revert_email)
    router.add_get("/users/{id}/public", profile.public)
    router.add_post("/user/avatar", avatar.upload)

    router.add_post("/auth/password/forgot", password_reset.forgot)
    router.add_post("/auth/password/reset", password_reset.reset)
    router.add_post("/auth/password/change", password_reset.change)

    router.add_post("/auth/verify/send", verification.send)
    router.add_get("/auth/verify/{token}", verification.verify)

    router.add_get(f"/auth/{PROVIDER}/redirect", oauth.redirect)
    router.add_get(f"/auth/{PROVIDER}/callback", oauth.callback)
    router.add_post("/auth/google/token", oauth.google_token)
    router.add_post("/auth/github/token", oauth.github_token)
    router.add_get(f"/auth/link/{PROVIDER}/redirect", oauth.link_redirect)
    router.add_get(f"/auth/link/{PROVIDER}/callback", oauth.link_callback)
    router.add_post("/auth/unlink", oauth.unlink)

    router.add_post("/ai/generate", ai.generate)
    router.add_get("/ai/jobs/{id}/status", ai.job_status)

    router.add_post("/maps/pin", maps.pin)

    router.add_post("/mail/contact", mail_routes.contact)
    router.add_post("/mail/newsletter", mail_routes.newsletter_sign_up)
    router.add_get("/mail/newsletter/confirm/{token}", mail_routes.newsletter_confirm)
    router.add_get("/mail/newsletter/unsubscribe/{token}", mail_routes.newsletter_unsubscribe)
    router.add_post("/mail/newsletter/unsubscribe/{token}", mail_routes.newsletter_unsubscribe_post)
    router.add_post("/mail/password-reset", mail_routes.password_reset_mail)

    router.add_post("/admin/migrate", admin_migrate.run)
