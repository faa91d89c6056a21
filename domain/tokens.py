"""Token formats: Sanctum-style personal access tokens, one-time secrets, and 002's JWTs.

A personal access token is shown to its owner once as `<id>|<secret>`; only SHA-256(secret) is
stored. Clients may send the full form or the secret alone. JWTs (002) are HS256 with a key
derived from APP_KEY, and carry the user's token epoch so a password reset or account deletion
voids every JWT issued before it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

from domain.inputs import has_forbidden, parse_positive_int

# 40 characters like Sanctum's, from a 240-bit random value
SECRET_BYTES = 30
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "roost"


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class BearerToken:
    token_id: int | None  # from `<id>|`, when the client sent it
    secret: str

    @property
    def secret_hash(self) -> str:
        return sha256_hex(self.secret)


def parse_pat(raw: str) -> BearerToken | None:
    """`<id>|<secret>` or `<secret>`; None for anything that cannot be one."""
    raw = raw.strip()
    if not raw or len(raw) > 512:
        return None
    if has_forbidden(raw, single_line=True):
        # a lone surrogate (header bytes that are not UTF-8) cannot even be hashed
        return None
    if "|" in raw:
        head, _, secret = raw.partition("|")
        token_id = parse_positive_int(head)
        if token_id is None or not secret:
            return None
        return BearerToken(token_id, secret)
    return BearerToken(None, raw)


def looks_like_jwt(raw: str) -> bool:
    return raw.count(".") == 2 and raw.startswith("eyJ")


def _jwt_key(app_key: str) -> bytes:
    # A key of its own for JWTs: APP_KEY also signs other things, and a JWT must not verify as them.
    return hmac.new(app_key.encode(), b"roost:jwt:v1", hashlib.sha256).digest()


def issue_jwt(app_key: str, user_id: int, epoch: int, ttl_s: int, now: float | None = None) -> str:
    now = time.time() if now is None else now
    claims = {"sub": str(user_id), "ep": epoch, "iat": int(now), "exp": int(now + ttl_s), "iss": JWT_ISSUER}
    return jwt.encode(claims, _jwt_key(app_key), algorithm=JWT_ALGORITHM)


@dataclass(frozen=True)
class JwtClaims:
    user_id: int
    epoch: int


def read_jwt(app_key: str, token: str) -> JwtClaims | None:
    """The claims of a valid, unexpired JWT of ours; None otherwise (never raises)."""
    try:
        claims = jwt.decode(
            token,
            _jwt_key(app_key),
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
        return JwtClaims(int(claims["sub"]), int(claims.get("ep", 0)))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
