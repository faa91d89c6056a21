"""Issue 9, throttles and client addresses: each test is the attack, against the real app, Redis
and PostgreSQL.

- a burst of concurrent hits was admitted against a count its own increments had not reached;
- `alİce@…` had a sign-in bucket of its own for alice's password (Python and PostgreSQL lowercase
  differently);
- behind an ingress every client shared the ingress's address, so one client spent everyone's
  per-IP budget (and forwarded headers must still never be believed from anyone else);
- a guest rotating `X-Device-Id` had no upload limit but the tenant's;
- a small PNG claiming 6000x6000 pixels was accepted (about a second of worker CPU).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from ipaddress import ip_network

from aiohttp import web
from multidict import CIMultiDict

from domain.settings import Settings
from gateway.app import create_app
from gateway.kernel.client_address import client_ip
from gateway.kernel.contracts import Contract
from gateway.kernel.throttle import Limit, Throttles
from tests.builders import make_user, sha256_hex, unique_email
from tests.clock import FakeClock
from tests.event_builders import make_event, make_tenant
from tests.events import photo_fixtures as fx
from tests.waiting import eventually


def _nets(*cidrs: str) -> tuple:
    # model_copy does not validate: the setting's parsed form, as TRUSTED_PROXIES=... gives it
    return tuple(ip_network(c) for c in cidrs)


def _isolated(settings, **update):
    """The session's settings with its own Redis prefix (no counts shared with other tests)."""
    return settings.model_copy(update={"redis_prefix": f"t-{uuid.uuid4().hex[:8]}", **update})


# -- exact throttles under bursts -----------------------------------------------------------------


async def test_a_burst_of_200_concurrent_hits_against_a_limit_of_10_admits_10(redis_client):
    # on a fake clock: a fixed window that turned over mid-burst would admit a second window's worth
    throttles = Throttles(redis_client, prefix=f"t-{uuid.uuid4().hex[:8]}", clock=FakeClock().time)
    limit = Limit("burst", 10, 60)
    verdicts = await asyncio.gather(*(throttles.hit(limit, "victim") for _ in range(200)))
    assert sum(v.allowed for v in verdicts) == 10
    # the admitted ones saw every budget from 9 down to 0 once: each hit got its own position
    assert sorted(v.remaining for v in verdicts if v.allowed) == list(range(10))


async def test_concurrent_wrong_password_logins_check_at_most_the_limit(aiohttp_client, settings, ray_session):
    app = await aiohttp_client(create_app(_isolated(settings, throttle_auth_per_minute=10), clock=FakeClock()))
    email = unique_email("burst")
    await make_user(app.app, email=email)
    body = {"email": email, "password_hash": sha256_hex("not-the-password")}
    responses = await asyncio.gather(*(app.post("/api/auth/login", json=body) for _ in range(150)))
    statuses = [r.status for r in responses]
    # every 401 is a password that was checked; the rest never reached the hasher
    assert statuses.count(401) == 10
    assert statuses.count(429) == 140


# -- one bucket per account -----------------------------------------------------------------------


async def test_a_dotted_capital_i_does_not_buy_a_second_bucket_for_the_same_account(
    aiohttp_client, settings, ray_session
):
    # Each attempt from its own address (through a trusted proxy), so only the account's bucket
    # can stop the fourth one.
    limited = _isolated(settings, throttle_auth_per_minute=3, trusted_proxies=_nets("127.0.0.1/32"))
    app = await aiohttp_client(create_app(limited, clock=FakeClock()))
    name = f"alice{uuid.uuid4().hex[:8]}"
    await make_user(app.app, email=f"{name}@example.test")
    wrong = sha256_hex("not-the-password")

    async def attempt(email: str, address: str) -> int:
        resp = await app.post(
            "/api/auth/login", json={"email": email, "password_hash": wrong}, headers={"X-Forwarded-For": address}
        )
        return resp.status

    assert [await attempt(f"{name}@example.test", f"203.0.113.{i}") for i in (1, 2, 3)] == [401, 401, 401]
    # PostgreSQL's lower() makes "İ" an "i", so this names alice's account: same bucket, spent
    dotted = name.replace("i", "İ", 1) + "@example.test"
    assert await attempt(dotted, "203.0.113.4") == 429
    assert await attempt(name.upper() + "@EXAMPLE.TEST", "203.0.113.5") == 429


# -- client addresses -----------------------------------------------------------------------------


async def _address_app(aiohttp_client, settings, **update):
    """The whole app plus a route answering the address every limit and log line uses."""

    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"ip": client_ip(request)})

    def add_routes(contract: Contract, app: web.Application) -> None:
        app.router.add_get("/_t/whoami", whoami)

    return await aiohttp_client(create_app(settings.model_copy(update=update), add_routes=add_routes))


async def _ip(app, headers: Mapping[str, str] | None = None) -> str:
    resp = await app.get("/_t/whoami", headers=headers or {})
    assert resp.status == 200
    return (await resp.json())["ip"]


async def test_a_direct_client_cannot_choose_its_address(aiohttp_client, settings, ray_session):
    app = await _address_app(aiohttp_client, settings)  # TRUSTED_PROXIES empty, the default
    assert await _ip(app) == "127.0.0.1"
    assert await _ip(app, {"X-Forwarded-For": "198.51.100.9"}) == "127.0.0.1"
    assert await _ip(app, {"Forwarded": "for=198.51.100.9"}) == "127.0.0.1"


async def test_an_untrusted_peer_forging_x_forwarded_for_is_ignored(aiohttp_client, settings, ray_session):
    app = await _address_app(aiohttp_client, settings, trusted_proxies=_nets("10.0.0.0/8"))
    assert await _ip(app, {"X-Forwarded-For": "198.51.100.9"}) == "127.0.0.1"
    assert await _ip(app, {"X-Forwarded-For": "198.51.100.9, 10.0.0.7"}) == "127.0.0.1"


async def test_a_trusted_proxy_is_believed(aiohttp_client, settings, ray_session):
    app = await _address_app(aiohttp_client, settings, trusted_proxies=_nets("127.0.0.1/32"))
    assert await _ip(app, {"X-Forwarded-For": "198.51.100.9"}) == "198.51.100.9"
    assert await _ip(app) == "127.0.0.1"  # the proxy's own request (a health check)


async def test_a_forged_left_most_entry_behind_a_trusted_proxy_changes_nothing(aiohttp_client, settings, ray_session):
    app = await _address_app(aiohttp_client, settings, trusted_proxies=_nets("127.0.0.1/32", "10.0.0.0/8"))
    # the client sent "6.6.6.6"; the edge proxy appended the client's real address, an inner
    # proxy (10.1.2.3) appended the edge's; we walk from the right past our own hops
    assert await _ip(app, {"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.1.2.3"}) == "203.0.113.7"
    # the same chain in two header lines
    lines = CIMultiDict([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.7, 10.1.2.3")])
    assert await _ip(app, lines) == "203.0.113.7"


async def test_only_the_configured_header_is_believed(aiohttp_client, settings, ray_session):
    xff = await _address_app(aiohttp_client, settings, trusted_proxies=_nets("127.0.0.1/32"))
    # a proxy that writes X-Forwarded-For passes a client's own Forwarded header through
    assert await _ip(xff, {"Forwarded": "for=6.6.6.6"}) == "127.0.0.1"
    rfc = await _address_app(
        aiohttp_client, settings, trusted_proxies=_nets("127.0.0.1/32"), trusted_proxy_header="forwarded"
    )
    assert await _ip(rfc, {"Forwarded": 'for=6.6.6.6, for="[2001:db8::7]:4711"'}) == "2001:db8::7"
    assert await _ip(rfc, {"X-Forwarded-For": "6.6.6.6"}) == "127.0.0.1"


async def test_behind_a_proxy_one_client_no_longer_spends_everyone_s_budget(aiohttp_client, settings, ray_session):
    app = await aiohttp_client(create_app(_isolated(settings, throttle_register_per_hour=2,
                                                    trusted_proxies=_nets("127.0.0.1/32"))))
    attacker, neighbour = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
    statuses = [(await app.post("/api/auth/register", json={}, headers=attacker)).status for _ in range(3)]
    assert statuses == [422, 422, 429]
    assert (await app.post("/api/auth/register", json={}, headers=neighbour)).status == 422


# -- guest uploads --------------------------------------------------------------------------------


async def test_a_guest_rotating_device_ids_is_held_by_its_address(aiohttp_client, settings, ray_session):
    limited = _isolated(
        settings,
        event_uploads_per_device_per_minute=2,
        event_uploads_per_ip_per_minute=3,
        event_uploads_per_tenant_per_minute=100,
        trusted_proxies=_nets("127.0.0.1/32"),
    )
    client = await aiohttp_client(create_app(limited, clock=FakeClock()))
    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"])
    guest = {"X-Forwarded-For": "198.51.100.1"}
    for _ in range(3):
        assert (await fx.ask_upload(client, event, headers={**guest, **fx.device()})).status == 201
    resp = await fx.ask_upload(client, event, headers={**guest, **fx.device()})
    assert resp.status == 429
    error = fx.assert_envelope(await resp.json(), "rate_limited")
    assert error["meta"]["scope"] == "ip" and error["meta"]["limit"] == 3
    # another guest at the venue, and the same guest at another event, have budgets of their own
    neighbour = {"X-Forwarded-For": "198.51.100.2", **fx.device()}
    assert (await fx.ask_upload(client, event, headers=neighbour)).status == 201
    other = await make_event(client.app, tenant["id"])
    assert (await fx.ask_upload(client, other, headers={**guest, **fx.device()})).status == 201


async def test_a_small_png_claiming_6000x6000_pixels_is_refused_by_default(client):
    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"])
    data = fx.png_bomb(6000, 6000)  # 36 M pixels in a few KB
    assert len(data) < 40_000
    resp = await fx.ask_upload(client, event, headers=fx.device(), content_type="image/png", size=len(data))
    put = await fx.put_bytes(client, (await resp.json())["data"]["upload_url"], data, "image/png")
    assert put.status == 422
    error = fx.assert_envelope(await put.json(), "image_too_large_pixels")
    assert error["meta"] == {"max_pixels": 24_000_000, "width": 6000, "height": 6000}


def test_the_default_pixel_limit_is_a_24_megapixel_camera():
    assert Settings(_env_file=None).event_photo_max_pixels == 24_000_000


async def test_the_access_log_records_the_client_not_the_proxy(
    aiohttp_server, aiohttp_client, settings, ray_session, capsys, caplog
):
    import logging

    import orjson

    from gateway.kernel.logs import JsonAccessLogger

    caplog.set_level(logging.INFO, logger="aiohttp.access")
    server = await aiohttp_server(
        create_app(settings.model_copy(update={"trusted_proxies": _nets("127.0.0.1/32")})),
        access_log_class=JsonAccessLogger,
    )
    app = await aiohttp_client(server)
    resp = await app.get("/healthz", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.23"})
    assert resp.status == 200
    lines: list[dict] = []

    def logged() -> dict | None:
        # the access log line is written after the response
        err = capsys.readouterr().err
        lines.extend(orjson.loads(line) for line in err.splitlines() if line.startswith("{"))
        return next((e for e in lines if e.get("msg") == "request" and e.get("path") == "/healthz"), None)

    entry = await eventually(logged, what="the access log line")
    assert entry["remote"] == "198.51.100.23"
