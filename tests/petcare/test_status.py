"""002's `GET /`: the status endpoint its document promises "for monitoring", in the document's
envelope and the reference's welcome fields at once; a browser gets the landing page outside
production (the page itself: tests/web/test_landing.py)."""

from __future__ import annotations

import pytest

from gateway.app import create_app
from gateway.kernel.negotiation import prefers_html
from gateway.kernel.openapi.serve import documents_key

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def _welcome(environment: str, debug: bool) -> dict:
    fields = {"environment": environment, "version": "1.0.0", "debug": debug}
    return {"status": 1, "data": fields, "message": "Welcome to PetCare API!", **fields}


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/html"])
async def test_api_clients_get_the_welcome_json(client, accept):
    resp = await client.get("/", headers={"Accept": accept} if accept else {})
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.json() == _welcome("testing", True)
    assert resp.headers["Vary"] == "Accept"


async def test_head_answers_too(client):
    resp = await client.head("/")
    assert resp.status == 200


async def test_another_method_is_002s_405(client):
    resp = await client.post("/", json={})
    assert resp.status == 405
    body = await resp.json()
    assert body["status"] == 0 and body["detail"] == "Method Not Allowed"


async def test_in_production_a_browser_gets_the_json_too(aiohttp_client, settings, ray_session):
    client = await aiohttp_client(create_app(settings.model_copy(update={"app_env": "production"})))
    resp = await client.get("/", headers={"Accept": BROWSER})
    assert resp.status == 200
    assert await resp.json() == _welcome("production", False)


async def test_the_document_lists_it(client):
    operation = client.app[documents_key]["petcare"].document["paths"]["/"]["get"]
    assert operation["summary"] == "API status"
    assert operation["security"] == []
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ApiStatus"}


async def test_under_a_prefix_the_status_moves_and_the_root_keeps_the_page(aiohttp_client, settings, ray_session):
    client = await aiohttp_client(create_app(settings.model_copy(update={"petcare_prefix": "/petcare"})))
    resp = await client.get("/petcare/")
    assert resp.status == 200
    assert await resp.json() == _welcome("testing", True)
    page = await client.get("/", headers={"Accept": BROWSER})
    assert page.status == 200
    assert page.content_type == "text/html"
    assert '<a href="/petcare/openapi.json">' in await page.text()


async def test_under_a_prefix_in_production_the_root_is_not_found(aiohttp_client, settings, ray_session):
    prod = settings.model_copy(update={"petcare_prefix": "/petcare", "app_env": "production"})
    client = await aiohttp_client(create_app(prod))
    resp = await client.get("/", headers={"Accept": BROWSER})
    assert resp.status == 404
    assert (await resp.json())["details"]["error_type"] == "route_not_found"
    assert (await client.get("/petcare/")).status == 200


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("text/html, application/json", False),  # a tie is an API client: the document's answer
        ("text/html;q=0.5, application/json;q=0.9", False),
        ("text/html;q=0.9, application/json;q=0.5", True),
        ("text/html;q=0", False),
        ("text/html;q=oops", False),
        ("application/problem+json, text/html;q=0.1", False),
    ],
)
def test_which_accept_prefers_html(accept, html):
    assert prefers_html(accept) is html
