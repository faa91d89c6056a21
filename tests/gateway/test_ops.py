"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import re

from aiohttp import web

from gateway.app import create_app
from gateway.kernel.contracts import Contract


async def test_healthz_answers_without_dependencies(client):
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json()) == {"status": "ok"}


async def test_readyz_checks_postgres_redis_and_ray(client):
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert (await resp.json()) == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok", "ray": "ok"}}


async def test_readyz_is_503_when_redis_is_down(aiohttp_client, settings, ray_session, tmp_path):
    dead = settings.model_copy(update={"redis_url": f"unix://{tmp_path}/nobody-listens.sock"})
    client = await aiohttp_client(create_app(dead))
    resp = await client.get("/readyz")
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("down")
    assert body["checks"]["postgres"] == "ok"


def sample(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels_part, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', labels_part))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


async def _item(request: web.Request) -> web.Response:
    return web.json_response({"id": request.match_info["id"]})


async def test_metrics_label_by_route_pattern_never_by_id(aiohttp_client, settings, ray_session):
    def add_routes(contract: Contract, app: web.Application) -> None:
        if contract is Contract.API:
            app.router.add_get("/_t/items/{id}", _item)

    client = await aiohttp_client(create_app(settings, add_routes=add_routes))
    for i in range(3):
        assert (await client.get(f"/api/_t/items/{i}")).status == 200
    assert (await client.get("/api/ping")).status == 200
    assert (await client.get("/api/v1/does-not-exist/123")).status == 404
    assert (await client.post("/api/ping")).status == 405

    text = await (await client.get("/metrics")).text()
    item_route = "/api/_t/items/{id}"
    assert sample(text, "http_requests_total", route=item_route, status="200", contract="api", method="GET") == 3
    assert sample(text, "http_requests_total", route="/api/ping", status="200", contract="api") == 1
    assert sample(text, "http_requests_total", route="unmatched", status="404", contract="events") == 1
    assert sample(text, "http_requests_total", status="405", contract="api", method="POST") == 1
    assert sample(text, "http_request_duration_seconds_count", route="/api/ping", status="200") == 1
    assert "/api/_t/items/1" not in text and "does-not-exist" not in text
