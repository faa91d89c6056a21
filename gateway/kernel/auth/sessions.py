"""Browser sessions in Redis, with Laravel-style XSRF protection.

The session cookie is HttpOnly; the `XSRF-TOKEN` cookie is readable by the page, which must echo
it in `X-XSRF-TOKEN` on every state-changing request (a cross-site form cannot read the cookie,
so it cannot). Plain HTML forms, which cannot set headers, send it as the `_token` field instead
(Laravel's name), rendered into the page by the server. Redis keys hold the SHA-256 of the
session id, so a dump of Redis does not hand out live sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import unquote

import orjson
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage

from domain.clock import SYSTEM_CLOCK, Clock
from domain.tokens import sha256_hex

SESSION_COOKIE = "roost_session"
XSRF_COOKIE = "XSRF-TOKEN"
XSRF_HEADER = "X-XSRF-TOKEN"
XSRF_FORM_FIELD = "_token"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
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


def derive_xsrf(app_key: str, session_id: str) -> str:
    """The session's XSRF token, derived rather than stored: Redis never holds it, and it cannot
    be forged without APP_KEY even by someone who can read the cookie jar of another site."""
    return hmac.new(app_key.encode(), b"xsrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def _key(prefix: str, session_id: str) -> str:
    return f"{prefix}:session:{sha256_hex(session_id)}"


def _user_key(prefix: str, user_id: int) -> str:
    """The user's session index: a set of their session ids' hashes, so signing a user out
    everywhere touches only their sessions, never a SCAN over all of Redis."""
    return f"{prefix}:user-sessions:{user_id}"


class SessionStore:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        app_key: str,
        secure_cookies: bool,
        prefix: str = "roost",
        ttl_s: int = SESSION_TTL_S,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._app_key = app_key
        # when a session was last touched (Redis keeps its expiry on its own clock)
        self._time = clock.time
        self._prefix = prefix
        self._redis = redis
        self._secure = secure_cookies
        self._ttl_s = ttl_s

    async def create(self, user_id: int) -> Session:
        sid = secrets.token_urlsafe(32)
        session = Session(sid, user_id, derive_xsrf(self._app_key, sid), self._time())
        await self._write(session)
        return session

    async def load(self, session_id: str) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        raw = await self._redis.get(_key(self._prefix, session_id))
        if raw is None:
            return None
        data = orjson.loads(raw)
        session = Session(session_id, int(data["uid"]), derive_xsrf(self._app_key, session_id), float(data["t"]))
        now = self._time()
        if now - session.touched_at > TOUCH_EVERY_S:
            session = Session(session.session_id, session.user_id, session.xsrf, now)
            # Only if it still exists: a sign-out racing this request must not be undone by it.
            if not await self._write(session, touch=True):
                return None
        return session

    async def destroy(self, session_id: str) -> None:
        key = _key(self._prefix, session_id)
        raw = await self._redis.getdel(key)
        if raw is not None:
            await self._redis.srem(_user_key(self._prefix, int(orjson.loads(raw)["uid"])), sha256_hex(session_id))

    async def destroy_all_for_user(self, user_id: int, *, keep_session_id: str | None = None) -> int:
        """Every session of the user but `keep_session_id` (the caller's own, when it stays);
        returns how many went. Reads only the user's index, never all sessions."""
        index = _user_key(self._prefix, user_id)
        keep = sha256_hex(keep_session_id) if keep_session_id else None
        members = {m.decode() if isinstance(m, bytes) else m for m in await self._redis.smembers(index)}
        doomed = [h for h in members if h != keep]
        if not doomed:
            return 0
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(*(f"{self._prefix}:session:{h}" for h in doomed))
            pipe.srem(index, *doomed)
            deleted, _ = await pipe.execute()
        return int(deleted)

    async def _write(self, session: Session, *, touch: bool = False) -> bool:
        """Stores the session and indexes it under its user; a touch (`xx`) writes only over a
        session that still exists and answers whether it did."""
        body = orjson.dumps({"uid": session.user_id, "t": session.touched_at})
        index = _user_key(self._prefix, session.user_id)
        # The index lives as long as the user's newest session; members of sessions that merely
        # expired linger until then and cost one no-op DELETE at a user-wide sign-out.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(_key(self._prefix, session.session_id), body, ex=self._ttl_s, xx=touch)
            pipe.sadd(index, sha256_hex(session.session_id))
            pipe.expire(index, self._ttl_s)
            stored, _, _ = await pipe.execute()
        return bool(stored)

    def set_cookies(self, response: web.StreamResponse, session: Session) -> None:
        for name, value, httponly in ((SESSION_COOKIE, session.session_id, True), (XSRF_COOKIE, session.xsrf, False)):
            response.set_cookie(
                name, value, path="/", secure=self._secure, samesite="Lax", max_age=self._ttl_s, httponly=httponly
            )

    def clear_cookies(self, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path="/")
        response.del_cookie(XSRF_COOKIE, path="/")


def _same(sent: str, expected: str) -> bool:
    # As bytes: compare_digest refuses non-ASCII str, and a client may send anything.
    return bool(sent) and hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), expected.encode())


def xsrf_ok(request: web.Request, session: Session) -> bool:
    """Safe methods pass; others must echo the session's XSRF token in the header."""
    if request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(XSRF_HEADER, "")
    # Browsers and axios send the cookie's value URL-encoded, as Laravel's does.
    return _same(unquote(sent), session.xsrf)


async def xsrf_form_ok(request: web.Request, session: Session) -> bool:
    """The form-body proof: a state-changing form post carrying the session's token as `_token`.

    Reads the form with `request.post()`, which consumes the body stream and keeps the parsed form:
    a handler behind a session must read its form the same way (`request.post()`, free the second
    time), never `request.multipart()`, `read()` or `content`, which would find the stream empty
    (the avatar upload once did, and answered a browser's upload 422). A body that cannot be
    parsed as a form proves nothing.
    """
    if request.method in SAFE_METHODS:
        return True
    if request.content_type not in FORM_TYPES:
        return False
    try:
        form = await request.post()
    # undecodable bytes, unknown charset, broken multipart (RuntimeError: an unknown
    # Content-Transfer-Encoding on a part; BadHttpMessage: a part header it cannot parse, such as
    # a control character in a field name), shapes aiohttp asserts on (as validation.read_form)
    except (ValueError, LookupError, RuntimeError, AssertionError, BadHttpMessage):
        return False
    sent = form.get(XSRF_FORM_FIELD)
    return isinstance(sent, str) and _same(sent, session.xsrf)
