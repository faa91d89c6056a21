"""How 003's account endpoints read password hashes and hand out sign-in tokens (the email and
form types they share with 000 are gateway/kernel/fields.py's).

003 clients send passwords as the SHA-256 hex of the password (`password_hash`); anything else
in a password field (too long, not hex, not a string) is a 422 with the field named, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from aiohttp import web
from pydantic import AfterValidator

from domain.errors import Invalid
from domain.passwords import normalize_hex
from gateway.accounts.schemas import UserToken, render
from gateway.kernel.account_views import user_public
from gateway.kernel.keys import accounts_key, settings_key

# 003's register and login say "Validation failed"; its other endpoints Laravel's default.
VALIDATION_FAILED = "Validation failed"
# What 003's sign-in endpoints name the token they mint (Sanctum's createToken('auth_token')).
LOGIN_TOKEN_NAME = "auth_token"
LOGIN_TOKEN_KIND = "login"


def _password_hex(field: str):
    def check(value: str) -> str:
        try:
            return normalize_hex(value, field)
        except Invalid as exc:  # pydantic collects ValueErrors with every other field's errors
            raise ValueError(exc.fields[field][0]) from None

    return AfterValidator(check)


PasswordHash = Annotated[str, _password_hex("password_hash")]
CurrentPasswordHash = Annotated[str, _password_hex("current_password_hash")]


def require_confirmed(password_hash: str, confirmation: Any, *, message: str = "The given data was invalid.") -> None:
    """Laravel's `confirmed` rule: the error belongs to the password field itself."""
    if not isinstance(confirmation, str) or confirmation.strip().lower() != password_hash:
        raise Invalid(
            message,
            code="confirmation_mismatch",
            fields={"password_hash": ["The password hash confirmation does not match."]},
        )


def with_message(exc: Invalid, message: str) -> Invalid:
    """The same field errors under the endpoint's own top-level message."""
    return Invalid(message, code=exc.code, fields=exc.fields, meta=exc.meta)


async def signed_in(request: web.Request, user: asyncpg.Record) -> dict[str, Any]:
    """`{user, token}`: a new personal access token (`<id>|<secret>`) for the user."""
    issued = await request.config_dict[accounts_key].issue_token(
        user["id"], name=LOGIN_TOKEN_NAME, kind=LOGIN_TOKEN_KIND
    )
    return render(UserToken(user=user_public(user, request.config_dict[settings_key]), token=issued.plain_text))
