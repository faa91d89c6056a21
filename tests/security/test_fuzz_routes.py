"""Every route in the route tables, fed hostile strings: zero 5xx, every error in its contract's envelope.

The routes are read from the running app's routers, so a route added later is fuzzed without
touching this file. Each route is called anonymously and with the credential its contract uses
(a `*` personal access token for /api and 002, a tenant token for 001's tenant routes, a browser
session for the pages), against real resources (a pet, an event, a photo...) so that hostile values
reach the handlers rather than stopping at a 404 for a missing parent.

Hostile values: Unicode digits (`²`, `１`, `٣`), NUL, lone surrogates, control characters, huge and
negative numbers, plus what hypothesis draws from its text and integer strategies (derandomized, so
a CI run is reproducible; the budget below keeps it to about half a minute). They go into every
path placeholder, every query parameter the code reads, the headers the gateway interprets, and
every field name any request model declares, as JSON, as forms and as malformed forms.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from aiohttp import web
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import BaseModel
from yarl import URL

from gateway.kernel.contracts import Contract, contract_for_path
from gateway.kernel.keys import pool_key, sessions_key
from tests.builders import make_token, make_user
from tests.event_builders import make_event, make_photo, make_tenant, make_tenant_admin
from tests.health_builders import insert_pet, make_medical_record, make_microchip, make_vaccination, make_weight
from tests.security.route_table import route_table

FIXED_HOSTILE = [
    "²", "１", "٣", "1²", "１２", "9" * 30, "-1", "0", "1e309", "NaN", "-0", " 1", "1 ", "0x10",
    "\x00", "a\x00b", "\ud800", "a\udfffb", "\x1b[31m", "\x7f", "\u202e", "\ufeff", "\r\nX-Injected: 1",
    "../../../etc/passwd", "%00", "' OR 1=1 --", "<script>alert(1)</script>", "", " ", "null", "🐈" * 50,
    "x" * 5000,
]
# Tried on every field of every seed body (below), whatever the cycle of values gives.
CORE_HOSTILE: list[Any] = ["\x00", "a\udfffb", "²", "9" * 30, 10**30, -(10**30), "\x1b\x07", "x" * 5000, {"$gt": ""}]
# Query parameters the handlers read (page, cursors, filters...), sent on every route.
QUERY_KEYS = ["page", "per_page", "limit", "cursor", "since", "status", "pet_type", "type", "q", "keyword",
              "group_id", "code", "state", "token", "email", "redirect", "from", "to", "sort"]
# Headers the gateway or handlers interpret.
HEADER_KEYS = ["Authorization", "X-Device-Id", "If-None-Match", "If-Modified-Since", "Accept-Language",
               "X-Request-ID", "X-XSRF-TOKEN", "X-API-Key", "X-Forwarded-For", "Idempotency-Key", "Accept", "Origin"]


def _seeds(world: "World") -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each route that writes what it is sent: mutated one field at a time, a
    hostile value passes every other check and reaches the handler and the database."""
    hexed = hashlib.sha256(b"Correct-Horse-9-battery").hexdigest()
    tag = uuid.uuid4().hex[:10]
    return {
        ("POST", "/api/auth/register"): {"username": f"u{tag}", "first_name": "Ada", "last_name": "L",
                                         "email": f"f{tag}@example.test", "password_hash": hexed,
                                         "password_hash_confirmation": hexed},
        ("POST", "/api/auth/login"): {"email": world.email, "password_hash": hexed},
        ("PUT", "/api/user"): {"name": "Ada", "first_name": "Ada", "last_name": "L", "username": f"p{tag}"},
        ("POST", "/api/user/api-tokens"): {"name": "fuzz", "permissions": ["read"]},
        ("PUT", "/api/user/api-tokens/{token_id}"): {"permissions": ["read"]},
        ("POST", "/api/pets"): {"name": "Fuzz", "country": "VN", "description": "d", "sex": "male"},
        ("PUT", "/api/pets/{pet}"): {"name": "Fuzz", "country": "VN", "description": "d"},
        ("POST", "/api/pets/{pet}/weights"): {"weight_kg": 4.5, "record_date": "2026-02-01", "notes": "n"},
        ("POST", "/api/pets/{pet}/medical-records"): {"record_type": "checkup", "record_date": "2026-02-01",
                                                      "title": "t", "description": "d", "notes": "n"},
        ("POST", "/api/pets/{pet}/vaccinations"): {"vaccine_name": f"V{tag}", "administered_at": "2026-02-01",
                                                   "notes": "n"},
        ("POST", "/api/pets/{pet}/microchips"): {
            "chip_number": f"9{secrets.randbelow(10**14):014d}", "implanted_at": "2026-02-01"
        },
        ("POST", "/api/v1/tenant/events"): {"name": f"Fuzz {tag}", "description": "d", "moderation": "auto"},
        ("PUT", "/api/v1/tenant/events/{event}"): {"name": f"Fuzz {tag}", "description": "d", "slug": f"s-{tag}"},
        ("POST", "/api/v1/tenant/tasks"): {"title": f"T {tag}", "description": "d"},
        ("POST", "/api/v1/tenant/emotions"): {"slug": f"e{tag}", "name": "E", "emoji": "x"},
        ("POST", "/api/v1/tenant-auth/login"): {"email": world.tenant_email, "password": "Correct-Horse-9-battery"},
        ("POST", "/api/v1/events/{token}/photos/upload-url"): {"content_type": "image/jpeg", "size": 1000},
        ("POST", "/user/update"): {"name": "Ada", "picture": "https://pics.example/a.png"},
        ("POST", "/auth/email/login"): {"email": world.email, "pwd": "Correct-Horse-9-battery"},
        ("POST", "/user/reset_password"): {"old_pwd": "wrong-password-1", "new_pwd": "Another-Horse-9"},
        ("POST", "/login"): {"email": world.email, "password": "wrong-password-1"},
    }


# How many hypothesis-drawn values join the fixed ones.
DRAWN = 120
PER_SLOT = 3  # hostile values tried per path placeholder, header and body shape


def _drawn_values() -> list[str]:
    out: list[str] = []
    digits = "0123456789²³¹٠١٢٣٤٥٦٧٨٩０１２３４５６７８９߀०১๑"
    strategy = st.one_of(
        st.text(max_size=40),
        st.text(alphabet=digits, min_size=1, max_size=25),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.text(alphabet=st.characters(codec=None, categories=["Cc", "Cs", "Co", "Cf", "Zs"]), min_size=1, max_size=8),
    )

    @hsettings(max_examples=DRAWN, derandomize=True, database=None, deadline=None,
               suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: str) -> None:
        out.append(value)

    collect()
    return out


def _model_fields() -> list[str]:
    """Every field name and alias any pydantic model in the gateway accepts."""
    import gateway.app  # noqa: F401  (imports every contract package)

    names: set[str] = set()
    seen: set[type] = set()
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        stack.extend(model.__subclasses__())
        if not model.__module__.startswith("gateway."):
            continue
        for name, info in model.model_fields.items():
            names.add(name)
            if info.alias:
                names.add(info.alias)
            choices = getattr(info.validation_alias, "choices", None)
            for choice in choices or ([info.validation_alias] if isinstance(info.validation_alias, str) else []):
                if isinstance(choice, str):
                    names.add(choice)
    return sorted(names)


@dataclass
class World:
    """Real resources for every placeholder, and the credentials of their owners."""

    placeholders: dict[str, str]
    email: str
    tenant_email: str
    user_token: str
    tenant_token: str
    session_cookies: dict[str, str]
    xsrf: str


async def _world(app: web.Application) -> World:
    pool = app[pool_key]
    user = await make_user(app)
    token = await make_token(app, user["id"])
    pet = await insert_pet(pool, user["id"], "cat", name="Fuzz")
    weight = await make_weight(pool, pet, 4.2, date(2026, 1, 5))
    # medical records and vaccinations share the `{record}` placeholder: one id of each kind
    record = await make_medical_record(pool, pet, date(2026, 1, 5))
    await make_vaccination(pool, pet, "Rabies", date(2026, 1, 5))
    microchip = await make_microchip(pool, pet, f"9{secrets.randbelow(10**14):014d}")
    tenant = await make_tenant(app)
    tenant_admin, tenant_token = await make_tenant_admin(app, tenant["id"])
    event = await make_event(app, tenant["id"])
    photo = await make_photo(app, event)
    emotion = await pool.fetchval("select id from emotions order by id limit 1")
    task = await pool.fetchval("select id from tasks order by id limit 1")
    session = await app[sessions_key].create(user["id"])
    return World(
        placeholders={
            "token": event["guest_token"], "event": str(event["id"]), "tenant": str(tenant["id"]),
            "photo": str(photo["id"]), "emotion": str(emotion or 1), "task": str(task or 1),
            "upload_id": "1", "id": str(user["id"]), "provider": "github", "token_id": str(token.record["id"]),
            "pet": str(pet), "weight": str(weight), "record": str(record),
            "microchip": str(microchip), "path": f"events/{photo['web_key']}",
        },
        email=user["email"],
        tenant_email=tenant_admin["email"],
        user_token=token.plain_text,
        tenant_token=tenant_token.plain_text,
        session_cookies={"roost_session": session.session_id, "XSRF-TOKEN": session.xsrf},
        xsrf=session.xsrf,
    )


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # with {placeholders}

    @property
    def placeholders(self) -> list[str]:
        return [part[1:-1].split(":")[0] for part in self.pattern.split("/") if part.startswith("{")]


def _routes(app: web.Application) -> list[Route]:
    routes = [Route(method, pattern) for method, pattern in route_table(app)]

    # Routes that end the caller's credentials or account go last (the world is rebuilt after them).
    def destructive(r: Route) -> bool:
        return r.method == "DELETE" or any(w in r.pattern for w in ("logout", "revoke", "unlink", "password"))

    return sorted(routes, key=lambda r: (destructive(r), r.pattern, r.method))


def _encode_segment(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def _header_value(value: str) -> str | None:
    # What a raw HTTP client can put on the wire: bytes as latin-1, no CR/LF (those end the header).
    raw = value.encode("utf-8", "surrogatepass").decode("latin-1")
    return None if ("\r" in raw or "\n" in raw) else raw


@dataclass
class Case:
    route: Route
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None
    what: str = ""


def _cases(route: Route, world: World, values: Iterator[str], fields: list[str]) -> Iterator[Case]:
    def build_path(override: dict[str, str] | None = None) -> str:
        parts = []
        for part in route.pattern.split("/"):
            if part.startswith("{"):
                name = part[1:-1].split(":")[0]
                raw = (override or {}).get(name)
                placeholder = quote(world.placeholders.get(name, "1"), safe="/")
                parts.append(_encode_segment(raw) if raw is not None else placeholder)
            else:
                parts.append(part)
        return "/".join(parts)

    base = build_path()
    for name in route.placeholders:
        for _ in range(PER_SLOT):
            value = next(values)
            yield Case(route, build_path({name: value}), what=f"path {name}={value!r}")
    value = next(values)
    query = "&".join(f"{k}={_encode_segment(value)}" for k in QUERY_KEYS)
    yield Case(route, base, query=query, what=f"query *={value!r}")
    for header in HEADER_KEYS:
        value = next(values)
        sent = _header_value(value if header != "Authorization" else f"Bearer {value}")
        if sent is not None:
            yield Case(route, base, headers={header: sent}, what=f"header {header}={value!r}")
    yield Case(route, base, headers={"Authorization": "Bearer ²|x"}, what="bearer ²|x")
    yield Case(route, base, headers={"Cookie": "roost_session=" + _encode_segment(next(values))}, what="session cookie")
    seed = _seeds(world).get((route.method, route.pattern))
    for name in seed or ():
        for value in [*CORE_HOSTILE, next(values), next(values)]:
            body = {**_seeds(world)[(route.method, route.pattern)], name: value}
            yield Case(route, base, body=json.dumps(body).encode(), content_type="application/json",
                       what=f"seed {name}={value!r}")
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        for _ in range(PER_SLOT):
            value = next(values)
            body = {name: value for name in fields}
            yield Case(
                route, base, body=json.dumps(body).encode(), content_type="application/json", what=f"json *={value!r}"
            )
        huge = {name: 10**40 for name in fields}
        yield Case(route, base, body=json.dumps(huge).encode(), content_type="application/json", what="json huge ints")
        nested = {name: [{"a": [None]}] for name in fields}
        yield Case(route, base, body=json.dumps(nested).encode(), content_type="application/json", what="json nested")
        yield Case(route, base, body=b'"\\ud800"', content_type="application/json", what="json scalar surrogate")
        yield Case(route, base, body=b'{"a": 1e99999}', content_type="application/json", what="json inf")
        value = next(values)
        form = "&".join(f"{k}={_encode_segment(value)}" for k in fields[:40]).encode()
        yield Case(route, base, body=form, content_type="application/x-www-form-urlencoded", what=f"form *={value!r}")
        yield Case(
            route, base, body=b"name=\xff\xfe", content_type="application/x-www-form-urlencoded", what="form non-utf8"
        )
        yield Case(route, base, body=b"name=x", content_type="application/x-www-form-urlencoded; charset=klingon",
                   what="form bad charset")
        yield Case(route, base, body=b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb",
                   content_type="multipart/form-data", what="multipart no boundary")
        yield Case(route, base, body=b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb",
                   content_type="multipart/form-data; boundary=x", what="multipart truncated")


def _credentials(route: Route, world: World) -> list[tuple[str, dict[str, str]]]:
    """Anonymous, and the credential the route's contract uses."""
    contract = contract_for_path(route.pattern)
    if route.pattern.startswith("/api/v1/tenant/") or route.pattern.startswith("/api/v1/tenant-auth/"):
        own = {"Authorization": f"Bearer {world.tenant_token}"}
    elif route.pattern.startswith("/api/v1/"):
        own = {"X-Device-Id": "fuzz-device-0001"}  # a guest
    elif contract is Contract.WEB or route.pattern.startswith("/api/user/api-tokens"):  # session-only
        cookie = "; ".join(f"{k}={v}" for k, v in world.session_cookies.items())
        own = {"Cookie": cookie, "X-XSRF-TOKEN": world.xsrf}
    else:
        own = {"Authorization": f"Bearer {world.user_token}"}
    return [("anonymous", {}), ("signed in", own)]


def assert_envelope(path: str, status: int, body: Any, text: str) -> None:
    contract = contract_for_path(path)
    if contract in (Contract.API, Contract.WEB):
        assert body["success"] is False and body["status"] == "error", text
        assert body["code"] == status and isinstance(body["message"], str) and body["message"], text
    elif contract is Contract.EVENTS:
        assert set(body) == {"error"}, text
        assert set(body["error"]) == {"code", "title", "message", "meta"}, text
    elif contract is Contract.PETCARE:
        assert body["status"] == 0 and body["data"] is None and body["message"], text
        assert "detail" in body and "details" in body, text


async def _alive(client: Any, world: World) -> bool:
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {world.user_token}"})
    tenant = await client.get("/api/v1/tenant-auth/me", headers={"Authorization": f"Bearer {world.tenant_token}"})
    return me.status == 200 and tenant.status == 200


async def test_no_route_answers_hostile_input_with_a_5xx(fuzz_client):
    client = fuzz_client
    fields = _model_fields()
    assert len(fields) > 40  # the models were found (a broken lookup would fuzz nothing)
    values = itertools.cycle(FIXED_HOSTILE + _drawn_values())
    routes = _routes(client.app)
    assert len(routes) > 80
    world = await _world(client.app)
    failures: list[str] = []
    sent = 0
    for route in routes:
        for who, credential in _credentials(route, world):
            for case in _cases(route, world, values, fields):
                headers = {**credential, **case.headers}
                if case.content_type:
                    headers["Content-Type"] = case.content_type
                url = URL(case.path + ("?" + case.query if case.query else ""), encoded=True)
                try:
                    resp = await client.request(route.method, url, headers=headers, data=case.body,
                                                allow_redirects=False)
                except (ValueError, UnicodeError):
                    continue  # the client itself refuses to send it (e.g. a NUL in a header)
                sent += 1
                text = await resp.text(errors="replace")
                where = f"{route.method} {route.pattern} [{who}] {case.what}"
                if resp.status >= 500:
                    failures.append(f"{resp.status} {where}: {text[:160]}")
                    continue
                if resp.status >= 400 and resp.content_type == "application/json":
                    try:
                        assert_envelope(case.path, resp.status, json.loads(text), text[:300])
                    except AssertionError as exc:
                        failures.append(f"envelope {resp.status} {where}: {exc}")
        if not await _alive(client, world):
            world = await _world(client.app)
    assert sent > 2000
    assert not failures, f"{len(failures)} failures of {sent} requests:\n" + "\n".join(failures[:400])
