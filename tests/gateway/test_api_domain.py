"""003's subdomain mode: on API_DOMAIN the /api routes answer at the root."""

from __future__ import annotations

import pytest

from gateway.app import create_app

HOST = {"Host": "api.roost.test"}


@pytest.fixture
async def domain_client(aiohttp_client, settings, ray_session):
    return await aiohttp_client(create_app(settings.model_copy(update={"api_domain": "api.roost.test"})))


@pytest.fixture
async def fallback_client(aiohttp_client, settings, ray_session):
    s = settings.model_copy(update={"api_domain": "api.roost.test", "api_prefix_fallback": True})
    return await aiohttp_client(create_app(s))


async def test_api_routes_answer_at_the_root_of_the_api_domain(domain_client):
    resp = await domain_client.get("/ping", headers=HOST)
    assert resp.status == 200
    assert (await resp.json())["data"] == {"status": "ok"}
    resp = await domain_client.post("/auth/login", json={}, headers=HOST)
    assert resp.status == 422
    body = await resp.json()
    assert body["status"] == "error" and body["message"] == "Validation failed"


async def test_unknown_paths_on_the_api_domain_use_the_api_envelope(domain_client):
    resp = await domain_client.get("/user/me", headers=HOST)  # a 002 path: not on this host
    assert resp.status == 404
    body = await resp.json()
    assert body["success"] is False and body["message"] == "Route not found."


async def test_probes_answer_on_the_api_domain(domain_client):
    assert (await domain_client.get("/healthz", headers=HOST)).status == 200


async def test_prefix_only_with_fallback(domain_client, fallback_client):
    assert (await domain_client.get("/api/ping", headers=HOST)).status == 404
    assert (await fallback_client.get("/api/ping", headers=HOST)).status == 200


async def test_main_host_is_unchanged(domain_client):
    assert (await domain_client.get("/api/ping")).status == 200
    resp = await domain_client.get("/ping")  # the root of the main host is 002's
    assert resp.status == 404
    assert (await resp.json())["status"] == 0
