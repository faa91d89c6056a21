"""Builders for users, tokens and sessions, shared by every test module."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import asyncpg
from aiohttp import web

from domain.accounts import IssuedToken
from gateway.kernel.keys import accounts_key

DEFAULT_PASSWORD = "Correct-Horse-9-battery"


def sha256_hex(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.test"


async def make_user(
    app: web.Application,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    **fields: Any,
) -> asyncpg.Record:
    """A registered user (with personal group), through the same domain call every contract uses."""
    accounts = app[accounts_key]
    fields.setdefault("username", f"u{uuid.uuid4().hex[:12]}")
    fields.setdefault("first_name", "Test")
    fields.setdefault("name", "Test User")
    return await accounts.register(email=email or unique_email(), password_hex=sha256_hex(password), **fields)


async def make_token(
    app: web.Application,
    user_id: int,
    *,
    abilities: tuple[str, ...] = ("*",),
    name: str | None = None,
    kind: str = "api",
) -> IssuedToken:
    return await app[accounts_key].issue_token(
        user_id, name=name or f"token-{uuid.uuid4().hex[:8]}", kind=kind, abilities=abilities
    )


def bearer(token: IssuedToken | str) -> dict[str, str]:
    value = token.plain_text if isinstance(token, IssuedToken) else token
    return {"Authorization": f"Bearer {value}"}
