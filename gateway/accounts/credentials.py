"""How 003's account endpoints read emails and password hashes, and hand out sign-in tokens.

003 clients send passwords as the SHA-256 hex of the password (`password_hash`); anything else
in a password field (too long, not hex, not a string) is a 422 with the field named, never a 500.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import asyncpg
from aiohttp import web
from pydantic import AfterValidator, ConfigDict

from domain.errors import Invalid
from domain.passwords import normalize_hex
from gateway.kernel.account_views import user_view
from gateway.kernel.keys import accounts_key, settings_key

# 003's register and login say "Validation failed"; its other endpoints Laravel's default.
VALIDATION_FAILED = "Validation failed"
# What 003's sign-in endpoints name the token they mint (Sanctum's createToken('auth_token')).
LOGIN_TOKEN_NAME = "auth_token"
LOGIN_TOKEN_KIND = "login"
# Laravel's TrimStrings middleware trims every string input; 003's clients rely on it.
FORM_CONFIG = ConfigDict(str_strip_whitespace=True)

EMAIL_MAX = 255
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)


def _email(value: str) -> str:
    if not value:
        raise ValueError("The email field is required.")
    if len(value) > EMAIL_MAX:
        raise ValueError(f"The email may not be greater than {EMAIL_MAX} characters.")
    if not _EMAIL.match(value) or ".." in value:
        raise ValueError("The email must be a valid email address.")
    return value


def _password_hex(field: str):
    def check(value: str) -> str:
        try:
            return normalize_hex(value, field)
        except Invalid as exc:  # pydantic collects ValueErrors with every other field's errors
            raise ValueError(exc.fields[field][0]) from None

    return AfterValidator(check)


Email = Annotated[str, AfterValidator(_email)]
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
    return {"user": user_view(user, request.config_dict[settings_key]), "token": issued.plain_text}


def raw_field(body: Any, name: str) -> str | None:
    """A string field of a body not yet validated (throttles key on the email before validation)."""
    value = body.get(name) if isinstance(body, dict) else None
    return value.strip() if isinstance(value, str) and len(value) <= EMAIL_MAX else None
