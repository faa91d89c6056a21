"""How 002 shows a user: opaque string ids, `picture`, `personal_group_id`, `source`; and the
answers of its login endpoints. The models are the components of 002's OpenAPI document; the
`*_view` functions build them from a row and render them JSON-ready."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from domain.accounts import display_name
from domain.settings import Settings
from gateway.kernel.account_views import IsoZ, absolute_avatar

TokenType = Literal["bearer"]

_ID = "Opaque string id (clients must not parse it)."


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class UserPublic(BaseModel):
    """A user as 002 shows them on every profile answer."""

    id: str = Field(description=_ID)
    email: str
    name: str = Field(description="Display name; empty when the account has none.")
    picture: str = Field(description="Absolute URL of the picture; empty when there is none.")
    personal_group_id: str | None = Field(description="The user's personal group (made at registration).")
    created_at: IsoZ
    updated_at: IsoZ
    source: str = Field(
        description="How the account came to be: `email`, `google`, `github`, or the name of the API key "
        "that registered it through /user/create."
    )
    is_active: bool
    is_verified: bool = Field(description="Whether the email address is verified.")


class UserWithToken(UserPublic):
    """The profile after a password change, with a fresh JWT (every one issued before is void)."""

    access_token: str = Field(description="A JWT for the Authorization: Bearer header.")
    token_type: TokenType


class LoginUser(BaseModel):
    """The short user object inside 002's login answers."""

    id: str = Field(description=_ID)
    email: str
    name: str = Field(description="Display name; empty when the account has none.")
    # absent (never null) when the account has no picture: the schema says string, not required
    picture: str | SkipJsonSchema[None] = Field(
        default=None,
        description="Absolute URL of the picture; absent when there is none.",
        json_schema_extra=_no_default,
    )


class LoginAnswer(BaseModel):
    access_token: str = Field(description="A JWT for the Authorization: Bearer header.")
    token_type: TokenType
    user: LoginUser


class AccessTokenAnswer(BaseModel):
    """OAuth2's token response (RFC 6749 §5.1), bare (not in the envelope), with the reference's `message`."""

    access_token: str = Field(description="A JWT for the Authorization: Bearer header.")
    token_type: TokenType
    message: str


def user_public(user: asyncpg.Record, personal_group_id: int | None, settings: Settings) -> UserPublic:
    return UserPublic(
        id=str(user["id"]),
        email=user["email"],
        name=display_name(user) or "",
        picture=absolute_avatar(settings, user["avatar"]) or "",
        personal_group_id=str(personal_group_id) if personal_group_id is not None else None,
        created_at=user["created_at"],
        updated_at=user["updated_at"],
        source=user["source"],
        is_active=user["is_active"],
        is_verified=user["email_verified_at"] is not None,
    )


def user_view(user: asyncpg.Record, personal_group_id: int | None, settings: Settings) -> dict[str, Any]:
    return user_public(user, personal_group_id, settings).model_dump(mode="json")


def login_user(user: asyncpg.Record, settings: Settings) -> LoginUser:
    return LoginUser(
        id=str(user["id"]),
        email=user["email"],
        name=display_name(user) or "",
        picture=absolute_avatar(settings, user["avatar"]),
    )


def login_view(user: asyncpg.Record, access_token: str, settings: Settings) -> dict[str, Any]:
    """The data of /auth/email/login's and /auth/google/login's answers."""
    answer = LoginAnswer(access_token=access_token, token_type="bearer", user=login_user(user, settings))
    return answer.model_dump(mode="json", exclude_none=True)
