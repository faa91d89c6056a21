"""Shared by the GPT bridge tests: an app with the connector configured, and signed sessions."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any

from domain.settings import Settings
from gateway.app import create_app

HMAC_SECRET = "test-connector-hmac-secret"
CONNECTOR_KEY = "test-connector-api-key-0123456789"
# Only ever written into redirect URLs; nothing in the tests fetches it.
CONNECTOR_URL = "http://127.0.0.1:9/gpt"
NINE = ["pet:read", "pet:write", "health:read", "health:write", "profile:read", "create", "read", "update", "delete"]


def connector_settings(settings: Settings, **overrides: Any) -> Settings:
    update: dict[str, Any] = {
        "gpt_connector_url": CONNECTOR_URL,
        "gpt_connector_api_key": CONNECTOR_KEY,
        "gpt_connector_hmac_secret": HMAC_SECRET,
    }
    update.update(overrides)
    return settings.model_copy(update=update)


async def connector_client(aiohttp_client: Any, settings: Settings, **overrides: Any) -> Any:
    return await aiohttp_client(create_app(connector_settings(settings, **overrides)))


def sig(session_id: str, secret: str = HMAC_SECRET) -> str:
    return hmac.new(secret.encode(), session_id.encode(), hashlib.sha256).hexdigest()


def new_session(prefix: str = "gpt-sess") -> dict[str, str]:
    """A connect session as the connector would hand it over: an id and its signature."""
    session_id = f"{prefix}-{uuid.uuid4().hex}"
    return {"session_id": session_id, "session_sig": sig(session_id)}


def connector_auth(key: str = CONNECTOR_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
