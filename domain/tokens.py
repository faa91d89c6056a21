"""Token formats: Sanctum-style personal access tokens, one-time secrets, and 002's JWTs.

A personal access token is shown to its owner once as `<id>|<secret>`; only SHA-256(secret) is
stored. Clients may send the full form or the secret alone. JWTs (002) are HS256 with a key
derived from APP_KEY, and carry the user's token epoch so a password reset or account deletion
voids every JWT issued before it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
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


@functools.lru_cache(maxsize=8)
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


# Tokens whose signature this process has checked: (app key, token) -> (claims, exp). A JWT is
# immutable, so the same string verifies the same way until it expires, and a revoked one is
# refused after this by the user's token epoch, not here. Verifying (base64, JSON, HMAC, claims)
# was a fourteenth of the gateway's time per 002 request (py-spy, meal_log); a family's client
# sends one token for hours. Bounded: the oldest entries go first.
_VERIFIED: OrderedDict[tuple[str, str], tuple[JwtClaims, float]] = OrderedDict()
VERIFIED_MAX = 50_000


def read_jwt(app_key: str, token: str) -> JwtClaims | None:
    """The claims of a valid, unexpired JWT of ours; None otherwise (never raises)."""
    now = time.time()
    hit = _VERIFIED.get((app_key, token))
    if hit is not None:
        if now < hit[1]:  # pyjwt's own rule: expired at exp, no leeway
            return hit[0]
        del _VERIFIED[(app_key, token)]
        return None
    try:
        claims = jwt.decode(
            token,
            _jwt_key(app_key),
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
        read = JwtClaims(int(claims["sub"]), int(claims.get("ep", 0)))
        exp = float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    _VERIFIED[(app_key, token)] = (read, exp)
    if len(_VERIFIED) > VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return read
