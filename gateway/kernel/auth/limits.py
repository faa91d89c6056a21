"""The authentication throttles every contract applies (figures from 002's document by default).

Per IP and per account, so neither one address hammering many accounts nor many addresses
hammering one account gets through. The IP is the client's as trusted proxies report it
(gateway/kernel/client_address.py).

An account is one bucket however its address is spelled. Sign-in finds the user with
PostgreSQL's `lower()`, which folds differently from Python's (`İ` is `i` there and `i̇` here),
so a key from Python's lowercasing gave `alİce@…` a bucket of its own for alice's password. The
bucket is therefore the user's id, found the way sign-in finds it; an address that names no
account keys by a hash of its lowercased self (no password is behind it to guess, and Redis keys
carry no addresses).
"""

from __future__ import annotations

from aiohttp import web

from domain.emails import EMAIL_MAX
from domain.tokens import sha256_hex
from gateway.kernel.client_address import client_ip
from gateway.kernel.keys import pool_key, settings_key, throttles_key
from gateway.kernel.throttle import Limit
from storage import users as users_sql

# a value longer than EMAIL_MAX names no account, so it is not looked up


def _looks_up(email: str) -> bool:
    """Only values PostgreSQL can take as text (throttles run before validation)."""
    if len(email) > EMAIL_MAX or "@" not in email or "\x00" in email:
        return False
    try:
        email.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


async def account_key(request: web.Request, email: str, user_id: int | None = None) -> str:
    """The per-account bucket for a sign-in or mail request naming `email`."""
    if user_id is None and _looks_up(email):
        async with request.config_dict[pool_key].acquire() as conn:
            user = await users_sql.by_email(conn, email.strip())
        user_id = user["id"] if user is not None else None
    if user_id is not None:
        return f"user:{user_id}"
    return sha256_hex(email.strip().lower())[:32]


async def throttle_auth(request: web.Request, email: str | None = None, *, user_id: int | None = None) -> None:
    """Sign-in attempts (password logins, token exchanges): per IP and per account per minute.
    Callers that already hold the user may pass `user_id` (the lookup is then skipped)."""
    s = request.config_dict[settings_key]
    throttles = request.config_dict[throttles_key]
    await throttles.enforce(request, Limit("auth-ip", s.throttle_auth_per_minute, 60), client_ip(request))
    if email or user_id is not None:
        key = await account_key(request, email or "", user_id)
        await throttles.enforce(request, Limit("auth-account", s.throttle_auth_per_minute, 60), key)


async def throttle_register(request: web.Request) -> None:
    s = request.config_dict[settings_key]
    await request.config_dict[throttles_key].enforce(
        request, Limit("register-ip", s.throttle_register_per_hour, 3600), client_ip(request)
    )


async def throttle_mail(request: web.Request, email: str | None, *, user_id: int | None = None) -> None:
    """Mail-sending requests (password reset, verification): per IP per minute, per account per hour."""
    s = request.config_dict[settings_key]
    throttles = request.config_dict[throttles_key]
    await throttles.enforce(request, Limit("mail-ip", s.throttle_auth_per_minute, 60), client_ip(request))
    if email or user_id is not None:
        key = await account_key(request, email or "", user_id)
        await throttles.enforce(request, Limit("mail-account", s.throttle_mail_per_hour, 3600), key)
