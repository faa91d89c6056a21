"""The security suite's app: the whole gateway, every provider configured (tests/security/route_table.py)."""

from __future__ import annotations

import pytest

from gateway.app import create_app
from tests.security.route_table import fuzz_settings


@pytest.fixture
async def fuzz_client(aiohttp_client, settings, ray_session, fake_google, fake_github):
    return await aiohttp_client(create_app(fuzz_settings(settings, fake_google, fake_github)))
