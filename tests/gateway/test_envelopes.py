"""Every mount answers framework-level failures (404, 405, 400, 413, 415, 500) in its own envelope."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aiohttp import web

from domain.errors import Conflict, Invalid
from gateway.app import create_app
from gateway.kernel.contracts import Contract
from gateway.kernel.json_io import read_json
from gateway.kernel.logs import JsonFormatter

# where each contract's test routes are mounted, seen from outside
MOUNTS = {Contract.API: "/api", Contract.EVENTS: "/api/v1", Contract.PETCARE: ""}


async def _echo(request: web.Request) -> web.Response:
    body = await read_json(request)
    return web.json_response({"echo": body})


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("unexpected")


async def _invalid(request: web.Request) -> web.Response:
    raise Invalid(fields={"name": ["The name field is required."]})


async def _logs(request: web.Request) -> web.Response:
    logging.getLogger("tests.handler").warning("something worth a line")
    return web.json_response({})


async def _conflict(request: web.Request) -> web.Response:
    raise Conflict("Slug taken.", code="slug_taken", meta={"slug": "x"})


@pytest.fixture
async def app_client(aiohttp_client, settings, ray_session):
    """The real app plus, on each contract's own app, a few routes that exercise the error paths."""
    small = settings.model_copy(update={"max_body_bytes": 2048})

    def add_routes(contract: Contract, sub: web.Application) -> None:
        sub.router.add_post("/_t/echo", _echo)
        sub.router.add_get("/_t/boom", _boom)
        sub.router.add_post("/_t/invalid", _invalid)
        sub.router.add_get("/_t/conflict", _conflict)
        sub.router.add_get("/_t/logs", _logs)

    app = create_app(small, add_routes=add_routes)
    return await aiohttp_client(app)


def assert_api_error(body: dict, status: int) -> None:
    assert body["success"] is False
    assert body["status"] == "error"
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert body["error"] == body["message"]
    assert "errors" in body and "data" in body
    assert body["timestamp"].endswith("Z")


def assert_events_error(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    err = body["error"]
    assert err["code"] == code
    assert err["title"] and err["message"]
    assert isinstance(err["meta"], dict)


def assert_petcare_error(body: dict) -> None:
    assert body["status"] == 0
    assert body["data"] is None
    assert body["message"]
    assert "detail" in body and "details" in body


def check(contract: Contract, body: dict, status: int, code: str) -> None:
    if contract is Contract.API:
        assert_api_error(body, status)
    elif contract is Contract.EVENTS:
        assert_events_error(body, code)
    else:
        assert_petcare_error(body)
        assert body["details"]["error_type"] == code


@pytest.mark.parametrize("contract", list(MOUNTS))
async def test_unknown_route_is_404_in_envelope(app_client, contract):
    resp = await app_client.get(MOUNTS[contract] + "/no/such/route")
    assert resp.status == 404
    check(contract, await resp.json(), 404, "route_not_found")


@pytest.mark.parametrize("contract", list(MOUNTS))
async def test_wrong_method_is_405_with_allow(app_client, contract):
    resp = await app_client.delete(MOUNTS[contract] + "/_t/echo")
    assert resp.status == 405
    assert "POST" in resp.headers["Allow"]
    check(contract, await resp.json(), 405, "method_not_allowed")


@pytest.mark.parametrize("contract", list(MOUNTS))
async def test_malformed_json_is_400(app_client, contract):
    resp = await app_client.post(
        MOUNTS[contract] + "/_t/echo", data=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    check(contract, await resp.json(), 400, "malformed_json")


@pytest.mark.parametrize("contract", list(MOUNTS))
async def test_wrong_content_type_is_415(app_client, contract):
    resp = await app_client.post(MOUNTS[contract] + "/_t/echo", data=b"name=x", headers={"Content-Type": "text/plain"})
    assert resp.status == 415
    check(contract, await resp.json(), 415, "unsupported_media_type")


@pytest.mark.parametrize("contract", list(MOUNTS))
async def test_oversized_body_is_413(app_client, contract):
    big = b'{"blob": "' + b"x" * 4096 + b'"}'
    resp = await app_client.post(MOUNTS[contract] + "/_t/echo", data=big, headers={"Content-Type": "application/json"})
    assert resp.status == 413
    check(contract, await resp.json(), 413, "payload_too_large")


@pytest.mark.parametrize("contract", list(MOUNTS))
async def test_valid_json_passes_through(app_client, contract):
    resp = await app_client.post(MOUNTS[contract] + "/_t/echo", json={"name": "Mia"})
    assert resp.status == 200
    assert (await resp.json()) == {"echo": {"name": "Mia"}}


@pytest.mark.parametrize("contract", list(MOUNTS))
async def test_unhandled_exception_is_500_in_envelope_without_internals(app_client, contract):
    resp = await app_client.get(MOUNTS[contract] + "/_t/boom")
    assert resp.status == 500
    body = await resp.json()
    check(contract, body, 500, "server_error")
    assert "unexpected" not in await resp.text()


async def test_api_validation_errors_carry_field_map(app_client):
    resp = await app_client.post("/api/_t/invalid")
    assert resp.status == 422
    body = await resp.json()
    assert_api_error(body, 422)
    assert body["errors"] == {"name": ["The name field is required."]}


async def test_petcare_validation_error_has_fastapi_detail_list(app_client):
    resp = await app_client.post("/_t/invalid")
    assert resp.status == 422
    body = await resp.json()
    assert body["detail"] == [
        {"loc": ["body", "name"], "msg": "The name field is required.", "type": "validation_failed"}
    ]
    assert body["details"]["field_errors"] == ["name"]


async def test_events_error_message_is_localized(app_client):
    en = await (await app_client.get("/api/v1/nope")).json()
    de = await (await app_client.get("/api/v1/nope", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})).json()
    fr = await (await app_client.get("/api/v1/nope", headers={"Accept-Language": "fr"})).json()
    assert en["error"]["message"] != de["error"]["message"]
    assert "Endpunkt" in de["error"]["message"]
    assert fr["error"]["message"] == en["error"]["message"]


async def test_events_conflict_keeps_code_and_meta(app_client):
    resp = await app_client.get("/api/v1/_t/conflict")
    assert resp.status == 409
    body = await resp.json()
    assert body["error"]["code"] == "slug_taken"
    assert body["error"]["meta"] == {"slug": "x"}


async def test_request_id_is_echoed_or_generated(app_client):
    resp = await app_client.get("/api/ping", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["X-Request-ID"] == "abc-123"
    resp = await app_client.get("/api/ping", headers={"X-Request-ID": "bad id with spaces"})
    generated = resp.headers["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32
    resp = await app_client.get("/api/nope")
    assert len(resp.headers["X-Request-ID"]) == 32


async def test_every_line_logged_while_serving_names_the_request(app_client):
    """Not only the middleware's own error lines: whatever a handler (or the domain below it) logs
    carries the request id (issue 16, point 9)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.handler")
    logger.addHandler(handler)
    try:
        resp = await app_client.get("/api/_t/logs", headers={"X-Request-ID": "log-7"})
        assert resp.status == 200
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert inside["msg"] == "something worth a line" and inside["request_id"] == "log-7"
    assert outside["msg"] == "outside any request" and "request_id" not in outside


async def test_ping_uses_union_envelope(app_client):
    resp = await app_client.get("/api/ping")
    assert resp.status == 200
    body = await resp.json()
    assert body["success"] is True and body["status"] == "success"
    assert body["data"] == {"status": "ok"}
    assert body["code"] == 200 and body["message"] == "OK"
