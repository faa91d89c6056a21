"""Shared bits of the 003 account tests: envelope checks and request bodies."""

from __future__ import annotations

import uuid
from typing import Any

from tests.builders import DEFAULT_PASSWORD, sha256_hex, unique_email

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = {"Accept": "application/json"}


def assert_ok(body: dict[str, Any], status: int, message: str) -> Any:
    assert body["success"] is True and body["status"] == "success"
    assert body["code"] == status
    assert body["message"] == message
    assert body["timestamp"].endswith("Z")
    return body["data"]


def assert_err(body: dict[str, Any], status: int, message: str) -> dict[str, list[str]] | None:
    assert body["success"] is False and body["status"] == "error"
    assert body["code"] == status
    assert body["message"] == message
    assert body["error"] == message
    return body["errors"]


def assert_no_password(user: dict[str, Any]) -> None:
    assert not [k for k in user if "password" in k.lower()]


def register_body(password: str = DEFAULT_PASSWORD, **overrides: Any) -> dict[str, Any]:
    hexed = sha256_hex(password)
    body = {
        "username": f"u{uuid.uuid4().hex[:12]}",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": unique_email("reg"),
        "password_hash": hexed,
        "password_hash_confirmation": hexed,
    }
    body.update(overrides)
    return body


async def register(client, **overrides: Any) -> dict[str, Any]:
    """Registers through the API; returns the response's data ({user, token})."""
    resp = await client.post("/api/auth/register", json=register_body(**overrides))
    assert resp.status == 201, await resp.text()
    return (await resp.json())["data"]


async def login(client, email: str, password: str = DEFAULT_PASSWORD):
    return await client.post("/api/auth/login", json={"email": email, "password_hash": sha256_hex(password)})


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}
