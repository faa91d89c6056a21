"""The authentication throttles every contract applies (figures from 002's document by default).

Per IP and per account, so neither one address hammering many accounts nor many addresses
hammering one account gets through. Accounts are keyed by a hash of the lowercased email, so
Redis keys carry no addresses.
"""

from __future__ import annotations

from aiohttp import web

from domain.tokens import sha256_hex
from gateway.keys import settings_key, throttles_key
from gateway.throttle import Limit, client_ip


def _account(email: str) -> str:
    return sha256_hex(email.strip().lower())[:32]


async def throttle_auth(request: web.Request, email: str | None = None) -> None:
    """Sign-in attempts (password logins, token exchanges): per IP and per account per minute."""
    s = request.config_dict[settings_key]
    throttles = request.config_dict[throttles_key]
    await throttles.enforce(request, Limit("auth-ip", s.throttle_auth_per_minute, 60), client_ip(request))
    if email:
        await throttles.enforce(request, Limit("auth-account", s.throttle_auth_per_minute, 60), _account(email))


async def throttle_register(request: web.Request) -> None:
    s = request.config_dict[settings_key]
    await request.config_dict[throttles_key].enforce(
        request, Limit("register-ip", s.throttle_register_per_hour, 3600), client_ip(request)
    )


async def throttle_mail(request: web.Request, email: str | None) -> None:
    """Mail-sending requests (password reset, verification): per IP per minute, per account per hour."""
    s = request.config_dict[settings_key]
    throttles = request.config_dict[throttles_key]
    await throttles.enforce(request, Limit("mail-ip", s.throttle_auth_per_minute, 60), client_ip(request))
    if email:
        await throttles.enforce(request, Limit("mail-account", s.throttle_mail_per_hour, 3600), _account(email))
