"""003's mail endpoints: the contact form, the newsletter (double opt-in) and the reference's
password-reset alias. Every mail goes through the `mail.send` job (domain/mailer.py).

- POST /api/mail/contact {name, email, message}: to MAIL_FROM_ADDRESS, Reply-To the visitor
  (domain/contact_mail.py says how no header can be injected), throttled per client address.
- POST /api/mail/newsletter {email}: a pending sign-up and a confirmation mail
  (domain/newsletter.py); GET /api/mail/newsletter/confirm/{token} confirms it;
  GET or POST /api/mail/newsletter/unsubscribe/{token} (the link in every mail; POST is RFC
  8058's one-click from the mail client) ends it. Browsers get a 302 to the SPA, API clients JSON.
- POST /api/mail/password-reset {email}: what /api/auth/password/forgot does.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, field_validator

from domain import contact_mail, newsletter
from domain.errors import BadRequest
from domain.mailer import Mailer
from gateway.accounts import password_reset
from gateway.accounts.browser import redirect
from gateway.accounts.openapi import WRITE_ERRORS
from gateway.kernel.api_envelope import success
from gateway.kernel.client_address import client_ip
from gateway.kernel.fields import FORM_CONFIG, Email
from gateway.kernel.keys import jobs_key, pool_key, settings_key, throttles_key
from gateway.kernel.negotiation import prefers_html
from gateway.kernel.openapi.operation import NO_BODY, documented
from gateway.kernel.throttle import Limit
from gateway.kernel.validation import parse

SENT = "Message sent"
SIGNED_UP = "Please confirm your subscription: we sent a link to your address"
CONFIRMED = "Newsletter subscription confirmed"
UNSUBSCRIBED = "Unsubscribed from the newsletter"


class ContactIn(BaseModel):
    model_config = FORM_CONFIG

    name: str = Field(min_length=1, max_length=contact_mail.NAME_MAX)
    email: Email = Field(description="The visitor's address: the mail's Reply-To.")
    message: str = Field(min_length=1, max_length=contact_mail.MESSAGE_MAX)

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if contact_mail.line_break_in(value):
            raise ValueError("The name may not contain line breaks.")
        return value


class NewsletterIn(BaseModel):
    model_config = FORM_CONFIG

    email: Email


def _mailer(request: web.Request) -> Mailer:
    return Mailer.from_settings(request.config_dict[settings_key], request.config_dict[jobs_key])


def _links(request: web.Request) -> newsletter.NewsletterLinks:
    s = request.config_dict[settings_key]
    return newsletter.NewsletterLinks(app_url=s.app_url, app_key=s.app_key)


async def _throttle(request: web.Request, name: str) -> None:
    s = request.config_dict[settings_key]
    limit = Limit(name, s.throttle_contact_per_hour, 3600)
    await request.config_dict[throttles_key].enforce(request, limit, client_ip(request))


@documented(
    "Send a message through the contact form",
    description="Mailed to the site's MAIL_FROM_ADDRESS with Reply-To the sender. Throttled per client address.",
    response=None,
    body=ContactIn,
    errors=WRITE_ERRORS,
)
async def contact(request: web.Request) -> web.Response:
    """POST /api/mail/contact {name, email, message} → 200 "Message sent" (queued for delivery)."""
    await _throttle(request, "contact-ip")
    data = await parse(request, ContactIn)
    s = request.config_dict[settings_key]
    await contact_mail.send_contact(_mailer(request), s.mail_from_address, data.name, data.email, data.message)
    return success(None, SENT)


@documented(
    "Sign up for the newsletter",
    description=(
        "Double opt-in: a confirmation mail with a one-time link goes to the address, which is subscribed "
        "only once the link is followed. The answer is the same whether the address was new, pending, "
        "confirmed or unsubscribed. Throttled per client address, and at most one confirmation mail per "
        "address every few minutes."
    ),
    response=None,
    body=NewsletterIn,
    errors=WRITE_ERRORS,
)
async def newsletter_sign_up(request: web.Request) -> web.Response:
    """POST /api/mail/newsletter {email} → 200 (a confirmation mail when one is due)."""
    await _throttle(request, "newsletter-ip")
    data = await parse(request, NewsletterIn)
    async with request.config_dict[pool_key].acquire() as conn:
        await newsletter.sign_up(conn, _mailer(request), _links(request), data.email)
    return success(None, SIGNED_UP)


def _done(request: web.Request, message: str, page: str) -> web.Response:
    if prefers_html(request.headers.get("Accept", "")):
        return redirect(f"{request.config_dict[settings_key].frontend_url.rstrip('/')}/newsletter/{page}")
    return success(None, message)


@documented(
    "Confirm a newsletter sign-up (the mailed link)",
    response=None,
    also={302: NO_BODY},
    headers_out={"Location": "302 only (a browser): `${FRONTEND_URL}/newsletter/confirmed`."},
    errors=(400,),
    path_params={"token": "The token from the confirmation mail."},
)
async def newsletter_confirm(request: web.Request) -> web.Response:
    """GET /api/mail/newsletter/confirm/{token} → 200 (or 302 for browsers); works once."""
    async with request.config_dict[pool_key].acquire() as conn:
        live = await newsletter.confirm(conn, _mailer(request), _links(request), request.match_info["token"])
    if not live:
        raise BadRequest("Invalid or expired confirmation link", code="invalid_newsletter_token")
    return _done(request, CONFIRMED, "confirmed")


async def _unsubscribe(request: web.Request) -> web.Response:
    async with request.config_dict[pool_key].acquire() as conn:
        known = await newsletter.unsubscribe(conn, _links(request), request.match_info["token"])
    if not known:
        raise BadRequest("Invalid unsubscribe link", code="invalid_unsubscribe_token")
    return _done(request, UNSUBSCRIBED, "unsubscribed")


_UNSUBSCRIBED_AT = {"Location": "302 only (a browser): `${FRONTEND_URL}/newsletter/unsubscribed`."}
_UNSUBSCRIBE_TOKEN = {"token": "The token from any newsletter mail's unsubscribe link."}


@documented(
    "Unsubscribe from the newsletter (the link in every mail)",
    response=None,
    also={302: NO_BODY},
    headers_out=_UNSUBSCRIBED_AT,
    errors=(400,),
    path_params=_UNSUBSCRIBE_TOKEN,
)
async def newsletter_unsubscribe(request: web.Request) -> web.Response:
    """GET /api/mail/newsletter/unsubscribe/{token} → 200 (or 302 for browsers); idempotent."""
    return await _unsubscribe(request)


@documented(
    "Unsubscribe from the newsletter in one click (RFC 8058, from the mail client)",
    response=None,
    also={302: NO_BODY},
    headers_out=_UNSUBSCRIBED_AT,
    errors=(400, *WRITE_ERRORS),
    path_params=_UNSUBSCRIBE_TOKEN,
)
async def newsletter_unsubscribe_post(request: web.Request) -> web.Response:
    """POST /api/mail/newsletter/unsubscribe/{token} (body `List-Unsubscribe=One-Click`, not read) → 200."""
    return await _unsubscribe(request)


@documented(
    "Mail a password reset link (as /auth/password/forgot)",
    description="The reference's alias of POST /auth/password/forgot, with the same answer and throttles.",
    response=None,
    body=password_reset.ForgotIn,
    errors=WRITE_ERRORS,
)
async def password_reset_mail(request: web.Request) -> web.Response:
    """POST /api/mail/password-reset {email} → what POST /api/auth/password/forgot answers."""
    return await password_reset.forgot(request)
