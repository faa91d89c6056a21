"""The GPT bridge's short-lived state: connector session signatures and the Redis keys behind them.

A connect session id comes from the GPT connector (its OAuth session) with `session_sig`, the hex
HMAC-SHA256 of the id under GPT_CONNECTOR_HMAC_SECRET; we never mint session ids ourselves.
Everything here lives in Redis only, keyed by SHA-256 of the session id, code or token, so a dump
of Redis holds no code or token a caller could replay; values carry no secrets either (a code
maps to a user id; the personal access token is minted at exchange time).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
from typing import TypeGuard

import orjson
import redis.asyncio as aioredis

from domain.errors import BadRequest, RoostError, ServiceUnavailable, Unauthenticated
from domain.settings import Settings
from domain.tokens import sha256_hex

log = logging.getLogger(__name__)

# The connector's OAuth session is a person's few minutes on the consent page; half an hour
# covers a registration plus the wait for a verification mail without keeping ids around long.
SESSION_TTL_S = 30 * 60
# The connector exchanges the code right after the redirect; five minutes allow for slow hops.
CODE_TTL_S = 5 * 60
# A Telegram sign-in round trip (bot, Mini App, back to /gpt-connect) takes minutes at most.
TELEGRAM_TTL_S = 30 * 60
TELEGRAM_TOKEN_LEN = 20
_TELEGRAM_ALPHABET = string.ascii_lowercase + string.digits
SESSION_ID_MAX = 255
NOT_CONFIGURED = "GPT connector is not configured."
BAD_SIGNATURE = "Invalid or expired GPT connect session."


class ConnectorMisconfigured(RoostError):
    """A bridge setting the request needs is unset: a server problem, not the caller's (500)."""

    status, code, title, message = 500, "gpt_connector_not_configured", "Server Error", NOT_CONFIGURED


def configured(value: str | None) -> TypeGuard[str]:
    # `.env.example` ships these empty; an empty value means unset.
    return bool(value and value.strip())


def require_setting(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    if not configured(value):
        log.error("GPT connector misconfigured: %s is not set", name.upper())
        raise ConnectorMisconfigured()
    return value.strip()


def sign(secret: str, session_id: str) -> str:
    return hmac.new(secret.encode(), session_id.encode(), hashlib.sha256).hexdigest()


def signature_ok(settings: Settings, session_id: object, session_sig: object) -> bool:
    """Whether `session_sig` is the connector's signature of `session_id` (500 if no secret is set)."""
    secret = require_setting(settings, "gpt_connector_hmac_secret")
    if not isinstance(session_id, str) or not isinstance(session_sig, str):
        return False
    if not session_id or len(session_id) > SESSION_ID_MAX or len(session_sig) > 128:
        return False
    expected = sign(secret, session_id)
    # As bytes: compare_digest refuses non-ASCII str, and a client may send anything.
    return hmac.compare_digest(session_sig.strip().lower().encode("utf-8", "surrogateescape"), expected.encode())


def require_signature(settings: Settings, session_id: object, session_sig: object) -> str:
    # signature_ok refuses a session id that is not a str; the isinstance says so to the type checker
    if not signature_ok(settings, session_id, session_sig) or not isinstance(session_id, str):
        raise BadRequest(BAD_SIGNATURE, code="invalid_gpt_session")
    return session_id


def connector_key_ok(settings: Settings, authorization: str) -> None:
    """The connector's own calls: 503 when no key is configured (logged), 401 "Unauthorized." for
    any other key."""
    expected = settings.gpt_connector_api_key
    if not configured(expected):
        log.error("GPT connector misconfigured: GPT_CONNECTOR_API_KEY is not set")
        raise ServiceUnavailable(NOT_CONFIGURED, code="gpt_connector_not_configured")
    sent = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    if not sent or not hmac.compare_digest(
        sent.encode("utf-8", "surrogateescape"), expected.strip().encode()
    ):
        raise Unauthenticated("Unauthorized.", code="invalid_connector_key")


class BridgeState:
    """Single-use markers, codes and Telegram resume tokens in Redis."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, kind: str, value: str) -> str:
        return f"{self._prefix}:gpt:{kind}:{sha256_hex(value)}"

    # -- one use per session ------------------------------------------------------------------

    async def claim(self, kind: str, session_id: str) -> bool:
        """Mark the session used for `kind` ('confirm', 'register'); False if it already was."""
        return bool(await self._redis.set(self._key(kind, session_id), b"1", nx=True, ex=SESSION_TTL_S))

    async def release(self, kind: str, session_id: str) -> None:
        """Undo a claim whose work failed, so the person can try again within the session."""
        await self._redis.delete(self._key(kind, session_id))

    # -- authorization codes ------------------------------------------------------------------

    async def new_code(self, user_id: int, session_id: str) -> str:
        code = secrets.token_urlsafe(32)
        body = orjson.dumps({"uid": user_id, "sid": sha256_hex(session_id)})
        await self._redis.set(self._key("code", code), body, ex=CODE_TTL_S)
        return code

    async def take_code(self, code: str) -> int | None:
        """The user id behind a live code, consuming it (GETDEL: a code works once)."""
        raw = await self._redis.getdel(self._key("code", code))
        if raw is None:
            return None
        return int(orjson.loads(raw)["uid"])

    # -- Telegram resume tokens ---------------------------------------------------------------

    async def new_telegram_token(self, session_id: str) -> str:
        token = "".join(secrets.choice(_TELEGRAM_ALPHABET) for _ in range(TELEGRAM_TOKEN_LEN))
        # the signature is not kept: whoever resumes re-signs the id with the same secret
        body = orjson.dumps({"session_id": session_id})
        await self._redis.set(self._key("telegram", token), body, ex=TELEGRAM_TTL_S)
        return token

    async def telegram_session(self, token: str) -> str | None:
        """The session id a later Telegram flow resumes (not consumed: the Mini App may reload)."""
        raw = await self._redis.get(self._key("telegram", token))
        return orjson.loads(raw)["session_id"] if raw is not None else None
