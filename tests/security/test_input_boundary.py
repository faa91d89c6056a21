"""Issue 9, "500s from bad input": one input boundary, attacked through every contract.

Each test is the attack as the probe sent it: Unicode digits where a number goes (`²` passed
`str.isdigit()` and then broke `int()`; `１` was parsed as 1), a Bearer token id in Unicode digits,
NUL in a stored string, malformed forms. Every answer must be the contract's 4xx in its envelope.
"""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import quote

import pytest

from domain.inputs import parse_int, parse_positive_int
from gateway.kernel.keys import pool_key
from tests.builders import bearer, make_token, make_user
from tests.event_builders import make_event, make_photo, make_tenant, make_tenant_admin
from tests.pet_builders import make_pet
from tests.security.route_table import route_table

HOSTILE_NUMBERS = ["²", "１", "٣", "9999999999999999999999", "-1", "0", "1e3", " 1", "1 ", "01", "1_0", "+1"]


async def api_error(resp, status: int) -> dict:
    """The /api union envelope for an error, with `status`."""
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["success"] is False and body["status"] == "error"
    assert set(body) >= {"success", "status", "data", "message", "error", "errors", "code", "timestamp"}
    return body


async def events_error(resp, status: int) -> dict:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "title", "message", "meta"}
    return body["error"]


async def petcare_error(resp, status: int) -> dict:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["status"] == 0 and body["data"] is None
    assert isinstance(body["details"], dict)
    return body


# -- the parser itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS + ["", "1\n", "\x00", "1\x00", None, 1])
def test_only_ascii_positive_integers_parse(raw):
    assert parse_positive_int(raw) is None


def test_the_parser_accepts_plain_numbers_and_bounds_them():
    assert parse_positive_int("1") == 1
    assert parse_positive_int("999999999999999999") == 10**18 - 1
    assert parse_positive_int("9223372036854775807", max_digits=19) == 2**63 - 1
    assert parse_positive_int("9223372036854775808", max_digits=19) is None
    assert parse_int("-12", signed=True) == -12
    assert parse_int("-12") is None
    assert parse_int("0") == 0


# -- ids in the path ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS)
async def test_api_pet_ids_in_unicode_digits_name_nothing(client, raw):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    await make_pet(client.app, user["id"])  # pet ids 1.. exist, so `１` as 1 would find one
    resp = await client.get(f"/api/pets/{quote(raw)}", headers=bearer(token))
    await api_error(resp, 404)


async def test_fullwidth_one_is_not_pet_one(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    pet = await make_pet(client.app, user["id"])
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(pet["id"]))
    assert (await client.get(f"/api/pets/{pet['id']}", headers=bearer(token))).status == 200
    await api_error(await client.get(f"/api/pets/{quote(fullwidth)}", headers=bearer(token)), 404)


@pytest.mark.parametrize("raw", ["²", "１", "٣", "9999999999999999999999", "0"])
async def test_other_path_ids(client, raw):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    await api_error(await client.get(f"/api/users/{quote(raw)}/public", headers=bearer(token)), 404)
    tenant = await make_tenant(client.app)
    _, tenant_token = await make_tenant_admin(client.app, tenant["id"])
    await events_error(await client.get(f"/api/v1/tenant/events/{quote(raw)}", headers=bearer(tenant_token)), 404)
    event = await make_event(client.app, tenant["id"])
    await make_photo(client.app, event)
    resp = await client.get(f"/api/v1/gallery/{event['guest_token']}/photos/{quote(raw)}/download")
    assert (await events_error(resp, 404))["code"] == "photo_not_found"


# -- page, per_page, limit, cursors ---------------------------------------------------------------


@pytest.mark.parametrize("raw", ["²", "１", "٣", "9999999999999999999999", "-1", "0", "1e3", " 1"])
async def test_001_page_and_limit(client, raw):
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    event = await make_event(client.app, tenant["id"])
    q = quote(raw)
    for name in ("page", "per_page"):
        err = await events_error(await client.get(f"/api/v1/tenant/events?{name}={q}", headers=bearer(token)), 422)
        assert name in err["meta"]["fields"] if "fields" in err["meta"] else err["meta"]
    await events_error(await client.get(f"/api/v1/gallery/{event['guest_token']}/photos?limit={q}"), 422)
    await events_error(await client.get(f"/api/v1/events/{event['guest_token']}/photos?limit={q}"), 422)


@pytest.mark.parametrize("seq", ["²", "١٢", "１"])
async def test_cursors_carrying_unicode_digits(client, seq):
    import base64

    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"])
    forged = base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")
    resp = await client.get(f"/api/v1/events/{event['guest_token']}/photos?since={forged}")
    assert (await events_error(resp, 422))["code"] == "invalid_cursor"
    forged = base64.urlsafe_b64encode(f"{seq}.0123456789abcdef".encode()).decode().rstrip("=")
    resp = await client.get(f"/api/v1/gallery/{event['guest_token']}/photos?cursor={forged}")
    assert (await events_error(resp, 422))["code"] == "invalid_cursor"
    resp = await client.get(f"/api/v1/events/{event['guest_token']}/photos?since={quote(seq * 2)}-01-01")
    assert (await events_error(resp, 422))["code"] == "invalid_cursor"


@pytest.mark.parametrize("raw", ["²", "１", "9999999999999999999999", "-1"])
async def test_api_page_falls_back_to_one(client, raw):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    pet = await make_pet(client.app, user["id"])
    resp = await client.get(f"/api/pets/{pet['id']}/weights?page={quote(raw)}", headers=bearer(token))
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["data"]["meta"]["current_page"] == 1


# -- Bearer tokens ---------------------------------------------------------------------------------


async def raw_get(client, path: str, header_lines: list[bytes]) -> tuple[int, bytes]:
    """A GET with header bytes no HTTP client library sends (not UTF-8): status and body."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        head = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        writer.write(head + b"".join(line + b"\r\n" for line in header_lines) + b"\r\n")
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("value", ["²|x", "١|abc", "１|abc", "99999999999999999999999|abc", "0|abc", "|abc"])
async def test_hostile_bearer_ids_are_unauthenticated(client, value):
    headers = {"Authorization": f"Bearer {value}"}
    await api_error(await client.get("/api/users/me", headers=headers), 401)
    await petcare_error(await client.get("/user/me", headers=headers), 401)
    await events_error(await client.get("/api/v1/tenant/events", headers=headers), 401)
    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"])
    # a guest poll needs no credential: a broken one is simply ignored
    assert (await client.get(f"/api/v1/events/{event['guest_token']}/stats", headers=headers)).status == 200


@pytest.mark.parametrize(
    "line",
    [
        b"Authorization: Bearer \xff\xfe|abc",
        b"Authorization: Bearer 1|\xff\xfe",
        b"Authorization: Bearer \xc3\x28abc",
        b"Cookie: roost_session=\xff\xfe",
        b"Cookie: api_token=1|\xff",
    ],
)
async def test_credentials_that_are_not_utf8_are_no_credentials(client, line):
    # aiohttp hands such bytes over as lone surrogates, which no hash or Redis key can encode
    status, body = await raw_get(client, "/api/users/me", [line])
    assert status == 401, body
    status, body = await raw_get(client, "/user/me", [line])
    assert status == 401, body


@pytest.mark.parametrize(
    "line",
    [
        b"X-Device-Id: \xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
        b"If-None-Match: \"\xff\"",
        b"If-Modified-Since: Mon, 01 Jan 99999999999 00:00:00 GMT",
        b"If-Modified-Since: \xff",
        b"Accept-Language: \xff;q=\xff, en;q=1e999",
        b"X-Request-ID: \xff\xfe",
    ],
)
async def test_hostile_headers_on_a_guest_poll(client, line):
    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"])
    for path in ("stats", "photos"):
        status, body = await raw_get(client, f"/api/v1/events/{event['guest_token']}/{path}", [line])
        assert status == 200, body


# -- NUL and other forbidden code points in bodies ---------------------------------------------------


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "x\x1by", "a\x08"])
async def test_api_register_name(client, bad):
    email = f"nul-{uuid.uuid4().hex[:8]}@example.com"
    body = {"name": bad, "email": email, "password_hash": "a" * 64, "password": "a" * 64}
    resp = await client.post("/api/auth/register", json=body)
    err = await api_error(resp, 422)
    assert list(err["errors"]) == ["name"]
    assert await client.app[pool_key].fetchval("select count(*) from users where email = $1", email) == 0


async def test_api_pet_name(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    name = f"Rex\x00{uuid.uuid4().hex[:6]}"
    resp = await client.post("/api/pets", json={"name": name, "pet_type_id": 1}, headers=bearer(token))
    assert list((await api_error(resp, 422))["errors"]) == ["name"]
    assert await client.app[pool_key].fetchval("select count(*) from pets where owner_id = $1", user["id"]) == 0


async def test_001_event_name_and_nested_field(client):
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    resp = await client.post("/api/v1/tenant/events", json={"name": "Party\x00"}, headers=bearer(token))
    err = await events_error(resp, 422)
    assert list(err["meta"]["fields"]) == ["name"], err
    assert await client.app[pool_key].fetchval("select count(*) from events where tenant_id = $1", tenant["id"]) == 0
    resp = await client.post("/api/v1/tenant/events", json={"name": "ok", "x": [{"y\x00": 1}]}, headers=bearer(token))
    assert list((await events_error(resp, 422))["meta"]["fields"]) == ["x.0.y\ufffd"]


async def test_002_user_update_name(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    resp = await client.post("/user/update", json={"name": "Jane\x00Doe"}, headers=bearer(token))
    body = await petcare_error(resp, 422)
    assert "name" in str(body["details"])
    assert await client.app[pool_key].fetchval("select name from users where id = $1", user["id"]) == user["name"]


async def test_tab_and_newlines_stay_allowed(client):
    tenant = await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    resp = await client.post(
        "/api/v1/tenant/events", json={"name": "Party", "description": "line one\r\n\tline two"}, headers=bearer(token)
    )
    assert resp.status == 201, await resp.text()


# -- the URL ----------------------------------------------------------------------------------------


async def test_nul_in_a_query_value_reaching_sql(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    err = await api_error(await client.get("/api/my-pets?pet_type=cat%00", headers=bearer(token)), 422)
    assert list(err["errors"]) == ["pet_type"]


async def test_control_characters_in_a_path_name_nothing(client):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    await api_error(await client.get("/api/pets/1%00", headers=bearer(token)), 404)
    await events_error(await client.get("/api/v1/events/abc%01def/stats"), 404)
    await events_error(await client.get("/api/v1/gallery/abc%00def"), 404)


# -- malformed forms --------------------------------------------------------------------------------

FORM_ROUTES = ["/api/auth/login", "/api/v1/tenant-auth/login", "/auth/access_token"]


@pytest.mark.parametrize("path", FORM_ROUTES)
@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n", 400),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nab', 400),
        # a part header aiohttp cannot parse (a control character in the field name)
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="\x0b"\r\n\r\n1', 400),
        ("application/x-www-form-urlencoded; charset=klingon", b"email=a%40b.c&password=x", 415),
        ("application/x-www-form-urlencoded", b"email=\xff\xfe@b.c&password=x", 400),
        ("application/x-www-form-urlencoded", b"email=a%00b@c.d&password=x", 422),
    ],
)
async def test_malformed_forms(client, path, content_type, body, status):
    resp = await client.post(path, data=body, headers={"Content-Type": content_type})
    if path.startswith("/api/v1"):
        await events_error(resp, status)
    elif path.startswith("/api"):
        await api_error(resp, status)
    else:
        await petcare_error(resp, status)


UNKNOWN_TRANSFER_ENCODING = (
    b'--x\r\nContent-Disposition: form-data; name="avatar"; filename="a.png"\r\n'
    b"Content-Transfer-Encoding: klingon\r\n\r\nab\r\n--x--\r\n"
)


@pytest.mark.parametrize("path", FORM_ROUTES)
async def test_a_part_in_an_unknown_transfer_encoding(client, path):
    # aiohttp raises RuntimeError for it, which no ValueError handler caught
    multipart = {"Content-Type": "multipart/form-data; boundary=x"}
    resp = await client.post(path, data=UNKNOWN_TRANSFER_ENCODING, headers=multipart)
    if path.startswith("/api/v1"):
        await events_error(resp, 400)
    elif path.startswith("/api"):
        await api_error(resp, 400)
    else:
        await petcare_error(resp, 400)


async def test_a_session_form_post_and_an_avatar_in_an_unknown_transfer_encoding(client):
    from tests.web.session_helpers import signed_in_user

    signed = await signed_in_user(client)
    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    # no XSRF header: the session's form-body check reads the form, and finds no proof in it
    resp = await client.post(
        "/api/user/avatar", data=UNKNOWN_TRANSFER_ENCODING, headers=headers, cookies=signed.cookies
    )
    await api_error(resp, 403)
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    resp = await client.post("/api/user/avatar", data=UNKNOWN_TRANSFER_ENCODING, headers=headers | bearer(token))
    assert list((await api_error(resp, 422))["errors"]) == ["avatar"]


@pytest.mark.parametrize("raw", ["４.５", "٤.٥", "4_5"])
async def test_a_weight_in_unicode_digits_is_not_a_number(client, raw):
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    pet = await make_pet(client.app, user["id"])
    body = {"weight_kg": raw, "record_date": "2024-06-01"}
    resp = await client.post(f"/api/pets/{pet['id']}/weights", json=body, headers=bearer(token))
    assert list((await api_error(resp, 422))["errors"]) == ["weight_kg"]
    count = "select count(*) from pet_weights where pet_id = $1"
    assert await client.app[pool_key].fetchval(count, pet["id"]) == 0


# -- header bytes that are not UTF-8, on every route ---------------------------------------------
# No HTTP client library sends these (they encode header strings as UTF-8), so the route fuzz in
# test_fuzz_routes.py cannot; aiohttp hands them to us as lone surrogates, which neither hashing
# (`.encode()`), Redis keys nor database parameters take.

BAD = b"\xff\xfe\xed\xa0\x80"
RAW_HEADER_SETS = [
    [b"Authorization: Bearer " + BAD + b"|abc", b"X-API-Key: " + BAD, b"X-Device-Id: " + BAD * 4,
     b"If-None-Match: " + BAD, b"If-Modified-Since: " + BAD, b"Accept-Language: " + BAD + b";q=" + BAD,
     b"X-Request-ID: " + BAD, b"Origin: http://" + BAD, b"Referer: http://" + BAD, b"Accept: " + BAD,
     b"X-Forwarded-For: " + BAD, b"Sec-Fetch-Site: " + BAD, b"X-Requested-With: " + BAD,
     b"X-XSRF-TOKEN: " + BAD, b"Idempotency-Key: " + BAD],
    [b"Authorization: Bearer eyJ" + BAD + b".a.b"],
    [b"Authorization: Bearer 1|" + BAD],
    [b"Authorization: Basic " + BAD],
    [b"Authorization: " + BAD],
    [b"X-API-Key: 1:" + BAD],
    [b"Cookie: roost_session=" + BAD + b"; api_token=" + BAD + b"; XSRF-TOKEN=" + BAD],
    [b"Content-Type: application/json; charset=" + BAD, b"Content-Length: 2", b"", b"{}"],
    [b"Content-Type: multipart/form-data; boundary=" + BAD, b"Content-Length: 2", b"", b"--"],
    [b"Content-Type: " + BAD, b"Content-Length: 2", b"", b"{}"],
]


async def raw_request(client, method: str, path: str, lines: list[bytes]) -> int:
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n".encode("latin-1")
        if b"" in lines:  # headers, a blank line, then the body
            cut = lines.index(b"")
            payload = head + b"".join(line + b"\r\n" for line in lines[:cut]) + b"\r\n" + b"".join(lines[cut + 1:])
        else:
            payload = head + b"".join(line + b"\r\n" for line in lines) + b"Content-Length: 0\r\n\r\n"
        writer.write(payload)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()
    finally:
        writer.close()
    return int(status_line.split()[1])


async def test_no_route_answers_raw_non_utf8_bytes_with_a_5xx(fuzz_client):
    import re

    client = fuzz_client
    tenant = await make_tenant(client.app)
    event = await make_event(client.app, tenant["id"])
    failures = []
    for method, pattern in route_table(client.app):
        path = re.sub(r"\{token\}", event["guest_token"], pattern)
        path = re.sub(r"\{path:[^}]*\}|\{key:[^}]*\}", "a/b.jpg", path)
        path = re.sub(r"\{[^}]+\}", "1", path)
        for lines in RAW_HEADER_SETS:
            status = await raw_request(client, method, path, lines)
            if status >= 500:
                failures.append((method, pattern, lines[0][:40], status))
        # and in the request target itself: raw, not percent-encoded
        hostile_path = re.sub(r"\{[^}]+\}", BAD.decode("latin-1"), pattern)
        for target in (hostile_path, path + "?page=" + BAD.decode("latin-1") + "&limit=%ff%00"):
            status = await raw_request(client, method, target, [])
            if status >= 500:
                failures.append((method, pattern, target, status))
    assert failures == []


async def test_no_path_segment_reaches_the_database_with_a_nul(fuzz_client):
    # The database's own refusal (422 `invalid_characters`, storage/errors.py) is a net, not an
    # answer: a segment no route can name is that route's "not found" (or its own error).
    import re

    client = fuzz_client
    user = await make_user(client.app)
    token = await make_token(client.app, user["id"])
    reached = []
    for method, pattern in route_table(client.app):
        if "{" not in pattern:
            continue
        for value in ("a%00b", "1%00", "%01", "%0a"):
            path = re.sub(r"\{[^}]+\}", value, pattern)
            resp = await client.request(method, path, headers=bearer(token))
            text = await resp.text()
            if resp.status >= 500 or "invalid_characters" in text:
                reached.append((method, pattern, value, resp.status))
    assert reached == []
