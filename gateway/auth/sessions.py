"""Browser sessions in Redis, with Laravel-style XSRF protection.

The session cookie is HttpOnly; the `XSRF-TOKEN` cookie is readable by the page, which must echo
it in `X-XSRF-TOKEN` on every state-changing request (a cross-site form cannot read the cookie,
so it cannot). Redis keys hold the SHA-256 of the session id, so a dump of Redis does not hand
out live sessions.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import unquote

import orjson
import redis.asyncio as aioredis
from aiohttp import web

from domain.tokens import sha256_hex

SESSION_COOKIE = "roost_session"
XSRF_COOKIE = "XSRF-TOKEN"
XSRF_HEADER = "X-XSRF-TOKEN"
SESSION_TTL_S = 2 * 60 * 60
# A session's expiry is pushed back at most this often, not on every request.
TOUCH_EVERY_S = 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    user_id: int
    xsrf: str
    touched_at: float


def _key(session_id: str) -> str:
    return f"roost:session:{sha256_hex(session_id)}"


class SessionStore:
    def __init__(self, redis: aioredis.Redis, *, secure_cookies: bool, ttl_s: int = SESSION_TTL_S) -> None:
        self._redis = redis
        self._secure = secure_cookies
        self._ttl_s = ttl_s

    async def create(self, user_id: int) -> Session:
        session = Session(secrets.token_urlsafe(32), user_id, secrets.token_urlsafe(32), time.time())
        await self._write(session)
        return session

    async def load(self, session_id: str) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        raw = await self._redis.get(_key(session_id))
        if raw is None:
            return None
        data = orjson.loads(raw)
        session = Session(session_id, int(data["uid"]), data["xsrf"], float(data["t"]))
        if time.time() - session.touched_at > TOUCH_EVERY_S:
            session = Session(session.session_id, session.user_id, session.xsrf, time.time())
            await self._write(session)
        return session

    async def destroy(self, session_id: str) -> None:
        await self._redis.delete(_key(session_id))

    async def destroy_all_for_user(self, user_id: int) -> None:
        """Sessions are keyed by id, not user; a user-wide logout scans (rare: account deletion)."""
        async for key in self._redis.scan_iter(match="roost:session:*", count=500):
            raw = await self._redis.get(key)
            if raw is not None and int(orjson.loads(raw)["uid"]) == user_id:
                await self._redis.delete(key)

    async def _write(self, session: Session) -> None:
        body = orjson.dumps({"uid": session.user_id, "xsrf": session.xsrf, "t": session.touched_at})
        await self._redis.set(_key(session.session_id), body, ex=self._ttl_s)

    def set_cookies(self, response: web.StreamResponse, session: Session) -> None:
        common = dict(path="/", secure=self._secure, samesite="Lax", max_age=self._ttl_s)
        response.set_cookie(SESSION_COOKIE, session.session_id, httponly=True, **common)
        response.set_cookie(XSRF_COOKIE, session.xsrf, httponly=False, **common)

    def clear_cookies(self, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path="/")
        response.del_cookie(XSRF_COOKIE, path="/")


def xsrf_ok(request: web.Request, session: Session) -> bool:
    """Safe methods pass; others must echo the session's XSRF token in the header."""
    if request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(XSRF_HEADER, "")
    # Browsers and axios send the cookie's value URL-encoded, as Laravel's does.
    return bool(sent) and hmac.compare_digest(unquote(sent), session.xsrf)
