"""Authentication for every contract, resolved once per request by the gateway middleware.

Credentials, first match wins: `Authorization: Bearer` (a JWT of ours, or a personal access token
as `<id>|<secret>` or the bare secret), a live browser session cookie, the `api_token` cookie
(003's OAuth callbacks set it). A bad or expired credential leaves the request anonymous; routes that need
a user answer 401 through the guards. A session request that changes state must carry the XSRF
header, or, for a plain HTML form, the `_token` field (403 otherwise).
"""

from __future__ import annotations

from aiohttp import web

from domain.errors import Forbidden
from domain.inputs import has_forbidden
from domain.tokens import looks_like_jwt, parse_pat, read_jwt
from gateway.kernel.auth.identity import ANONYMOUS, AuthMode, Identity, SignedIn
from gateway.kernel.auth.sessions import SESSION_COOKIE, SessionStore, xsrf_form_ok, xsrf_ok
from gateway.kernel.auth.token_cache import TokenCache, UserEntry
from gateway.kernel.keys import sessions_key, settings_key, token_cache_key

API_TOKEN_COOKIE = "api_token"


async def _from_pat(cache: TokenCache, raw: str, via: str) -> Identity:
    parsed = parse_pat(raw)
    if parsed is None:
        return ANONYMOUS
    entry = await cache.lookup(parsed.secret_hash)
    if (
        entry is None
        or (parsed.token_id is not None and parsed.token_id != entry.token_id)
        or entry.expired(cache.now())
        or not entry.is_active
    ):
        return ANONYMOUS
    cache.mark_used(entry.token_id)
    return SignedIn(
        user_id=entry.user_id,
        mode="pat",
        token_id=entry.token_id,
        abilities=entry.abilities,
        is_premium=entry.is_premium,
        is_admin=entry.is_admin,
        email_verified=entry.email_verified,
        via=via,
    )


def _user_identity(user: UserEntry, mode: AuthMode, via: str, session_id: str | None = None) -> SignedIn:
    """Sessions and JWTs stand for the whole account: not ability-limited (002 has no abilities,
    and browser sessions skip ability checks)."""
    return SignedIn(
        user_id=user.user_id,
        mode=mode,
        is_premium=user.is_premium,
        is_admin=user.is_admin,
        email_verified=user.email_verified,
        via=via,
        session_id=session_id,
    )


async def _from_jwt(cache: TokenCache, app_key: str, raw: str) -> Identity:
    claims = read_jwt(app_key, raw)
    if claims is None:
        return ANONYMOUS
    user = await cache.lookup_user(claims.user_id)
    if user is None or not user.is_active or user.token_epoch != claims.epoch:
        return ANONYMOUS
    return _user_identity(user, "pat", "jwt")


async def _from_session(request: web.Request, sessions: SessionStore, cache: TokenCache, sid: str) -> Identity:
    session = await sessions.load(sid)
    if session is None:
        return ANONYMOUS
    user = await cache.lookup_user(session.user_id)
    if user is None or not user.is_active:
        return ANONYMOUS
    if not xsrf_ok(request, session) and not await xsrf_form_ok(request, session):
        raise Forbidden("CSRF token mismatch.", code="xsrf_mismatch")
    return _user_identity(user, "session", "session", session_id=sid)


async def resolve(request: web.Request) -> Identity:
    headers = request.headers
    header = headers.get("Authorization")
    if header is None and "Cookie" not in headers:
        return ANONYMOUS  # most guest traffic: nothing to look at
    app = request.config_dict
    cache: TokenCache = app[token_cache_key]
    header = header or ""
    if header[:7].lower() == "bearer ":
        raw = header[7:].strip()
        if looks_like_jwt(raw):
            return await _from_jwt(cache, app[settings_key].app_key, raw)
        return await _from_pat(cache, raw, "bearer")
    # A live browser session wins over a 003 `api_token` cookie the same browser may also hold:
    # the session-only pages (token management, /developer) must see the session.
    sid = request.cookies.get(SESSION_COOKIE)
    # Header bytes that are not UTF-8 arrive as lone surrogates, which no hash, Redis key or
    # database parameter can take: such a cookie is no session (parse_pat does the same for tokens).
    if sid and not has_forbidden(sid, single_line=True):
        identity = await _from_session(request, app[sessions_key], cache, sid)
        if identity.authenticated:
            return identity
    cookie = request.cookies.get(API_TOKEN_COOKIE)
    if cookie:
        return await _from_pat(cache, cookie, "cookie")
    return ANONYMOUS
