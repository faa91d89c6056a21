"""Request bodies of 002's account endpoints, with the body's own field names (they name 422 details)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, StringConstraints

from domain.emails import EMAIL_MAX, is_email
from gateway.kernel.fields import LoginEmail, Password

# 002's names (users, pets, groups) are 1–50 characters.
NAME_MAX = 50
# users.avatar's column limit
PICTURE_MAX = 2048


def _email(value: str) -> str:
    if not is_email(value):
        raise ValueError("The email must be a valid email address.")
    return value


def _picture(value: str) -> str:
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValueError("The picture must be a valid URL.")
    return value


def _empty_is_none(value: object) -> object:
    # HTML and OAuth2 client forms send an unset optional field as an empty string. Exactly "":
    # FastAPI's form parsing (the reference) treats only that as missing, so "  " stays a 422
    # (unlike gateway.kernel.fields.blank_is_none, which the Laravel-style bodies use).
    return None if value == "" else value


# the one email rule (domain/emails.py) in 002's wording
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=EMAIL_MAX), AfterValidator(_email)
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
Picture = Annotated[str, StringConstraints(strip_whitespace=True, max_length=PICTURE_MAX), AfterValidator(_picture)]


class UserCreateIn(BaseModel):
    email: Email
    name: Name
    pwd: Password


class EmailLoginIn(BaseModel):
    email: LoginEmail
    pwd: Password


class AccessTokenForm(BaseModel):
    """OAuth2's password grant form (RFC 6749 §4.3), as FastAPI's OAuth2PasswordRequestForm reads it."""

    grant_type: Annotated[Literal["password"] | None, BeforeValidator(_empty_is_none)] = None
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    password: Password
    scope: str = ""


class UserUpdateIn(BaseModel):
    # None or absent: unchanged. An empty picture clears it (the document shows "" for no picture).
    name: Name | None = None
    picture: Picture | None = None


class PasswordResetIn(BaseModel):
    old_pwd: Password
    new_pwd: Password
