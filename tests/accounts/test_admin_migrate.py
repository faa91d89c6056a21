"""POST /api/admin/migrate through the whole app: its refusals (disabled, wrong token, a weak
token outside development, a path outside the migrations folder, the throttle) and real runs of
storage/migrate.py's runner against a database of its own that lacks the newest migration."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from pydantic import ValidationError

from domain.settings import Settings
from gateway.app import create_app
from storage.migrate import MIGRATIONS_DIR, discover, migrate
from tests.accounts.account_helpers import JSON, assert_err, assert_ok
from tests.clock import FakeClock

TOKEN = secrets.token_hex(24)
API_HOST = "api.roost.test"
NEWEST = discover()[-1].name


def _isolated(settings: Settings, **update) -> Settings:
    # a Redis prefix of its own: the throttle is per client address, and every test is 127.0.0.1
    values = {"redis_prefix": f"t-mig-{uuid.uuid4().hex[:8]}", "allow_run_mig": True, "run_mig_token": TOKEN}
    values.update(update)
    return settings.model_copy(update=values)


@pytest.fixture
async def behind(services, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database migrated up to, not including, the newest migration file. Name it before
    `make_client` so that it is dropped after the app that uses it has closed."""
    name = f"roost_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(services.database_url)
    try:
        await admin.execute(f'create database "{name}"')
    finally:
        await admin.close()
    dsn = urlunsplit(urlsplit(services.database_url)._replace(path="/" + name))
    older = tmp_path / "migrations"
    older.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name != NEWEST:
            shutil.copy(path, older / path.name)
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, older)
    finally:
        await conn.close()
    yield dsn
    admin = await asyncpg.connect(services.database_url)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()


async def applied_names(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["name"] for r in await conn.fetch("select name from schema_migrations order by version")]
    finally:
        await conn.close()


@pytest.fixture
async def make_client(aiohttp_client, settings, ray_session):
    async def make(**update):
        return await aiohttp_client(create_app(_isolated(settings, **update), clock=FakeClock()))

    return make


async def run(client, body=None, token: str | None = TOKEN, **headers: str):
    h = JSON | headers
    if token is not None:
        h["X-RUN-MIG-TOKEN"] = token
    return await client.post("/api/admin/migrate", json=body if body is not None else {}, headers=h)


# -- refusals ---------------------------------------------------------------------------------


async def test_disabled_by_default_even_with_the_right_token(make_client):
    client = await make_client(allow_run_mig=False)
    resp = await run(client)
    assert resp.status == 403
    assert_err(await resp.json(), 403, "Migrations via HTTP are disabled")


async def test_a_wrong_or_missing_token_is_refused(behind, make_client):
    client = await make_client(database_url=behind)
    for token, body in [
        (None, {}),
        ("", {}),
        (TOKEN[:-1], {}),
        (TOKEN + "x", {}),
        (TOKEN.upper(), {}),
        (None, {"token": "guess"}),
        (None, {"token": 12}),
    ]:
        resp = await run(client, body, token=token)
        assert resp.status == 403, (token, body)
        assert_err(await resp.json(), 403, "Invalid migration token")
    # nothing ran
    assert NEWEST not in await applied_names(behind)


async def test_without_a_configured_token_nothing_matches(make_client):
    client = await make_client(run_mig_token=None)
    for token in ("", "None", "null"):
        resp = await run(client, token=token)
        assert resp.status == 403
    assert_err(await resp.json(), 403, "Migrations via HTTP are disabled")


@pytest.mark.parametrize("weak", ["short-but-random-x9", "change-me-please-change-me-please-0", "a" * 40])
async def test_a_weak_token_outside_development_is_refused_even_when_sent(make_client, weak):
    # settings copied without validation (as tests do) still cannot open the route
    client = await make_client(run_mig_token=weak)
    resp = await run(client, token=weak)
    assert resp.status == 403
    assert_err(await resp.json(), 403, "Migrations via HTTP are disabled")


def test_settings_refuse_a_weak_token_outside_development():
    base = {"_env_file": None, "app_key": secrets.token_hex(32), "allow_run_mig": True}
    for env in ("production", "testing"):
        for weak in (None, "", "short", "your-run-mig-token-goes-here-000000", "ab" * 20, "CHANGE-ME" + "x1y2z3w4" * 4):
            with pytest.raises(ValidationError, match="RUN_MIG_TOKEN"):
                Settings(**base, app_env=env, run_mig_token=weak)
        assert Settings(**base, app_env=env, run_mig_token=TOKEN).run_mig_token == TOKEN
    # off, any token (or none) is fine; in development a short one is allowed
    assert Settings(**base | {"allow_run_mig": False}, app_env="production", run_mig_token="short")
    assert Settings(**base, app_env="development", run_mig_token="short").allow_run_mig


@pytest.mark.parametrize(
    "path",
    [
        "..",
        "../../../../etc/passwd",
        "/etc",
        "/etc/passwd",
        "storage",
        "storage/migrate.py",
        "storage/migrations/../migrate.py",
        "storage/migrations/../../pyproject.toml",
        "storage/migrations/0001_jobs.sql/..",
        "storage/migrations/0001_nope.sql",
        str(MIGRATIONS_DIR.parent),
        "x" * 1000,
    ],
)
async def test_a_path_outside_the_migrations_folder_is_refused(behind, make_client, path):
    client = await make_client(database_url=behind)
    resp = await run(client, {"path": path})
    assert resp.status == 422, path
    errors = assert_err(await resp.json(), 422, "The given data was invalid.")
    assert errors == {"path": ["The path must name the migrations folder or a migration file in it."]}
    assert NEWEST not in await applied_names(behind)


async def test_throttled_to_ten_a_minute_before_any_check(make_client):
    client = await make_client()
    statuses = [(await run(client, token="wrong")).status for _ in range(10)]
    assert statuses == [403] * 10
    resp = await run(client)  # the right token cannot get through either
    assert resp.status == 429
    assert_err(await resp.json(), 429, "Too Many Attempts.")
    assert resp.headers["X-RateLimit-Limit"] == "10"
    assert int(resp.headers["Retry-After"]) >= 1


# -- runs ---------------------------------------------------------------------------------------


async def test_a_run_applies_what_is_pending_and_answers_the_runners_output(behind, make_client):
    client = await make_client(database_url=behind)
    assert NEWEST not in await applied_names(behind)
    resp = await run(client)
    assert resp.status == 200, await resp.text()
    data = assert_ok(await resp.json(), 200, "Migrations completed")
    assert data == {"output": f"Migrated: {NEWEST}", "applied": [NEWEST], "seeded": False}
    assert await applied_names(behind) == [m.name for m in discover()]
    # again: nothing left, with the token in the body this time
    resp = await run(client, {"token": TOKEN, "seed": True}, token=None)
    data = assert_ok(await resp.json(), 200, "Migrations completed")
    assert data["applied"] == []
    assert data["seeded"] is True
    assert data["output"].splitlines()[0] == "Nothing to migrate."
    assert data["output"].splitlines()[1].startswith("Seeding: ")


@pytest.mark.parametrize(
    "path",
    ["storage/migrations", "storage/migrations/", "0001_jobs.sql", f"storage/migrations/{NEWEST}", str(MIGRATIONS_DIR)],
)
async def test_a_path_inside_the_migrations_folder_is_accepted(behind, make_client, path):
    client = await make_client(database_url=behind)
    resp = await run(client, {"path": path})
    assert resp.status == 200, await resp.text()
    data = (await resp.json())["data"]
    assert data["applied"] == [NEWEST]
    assert data["output"].splitlines()[0].startswith("Path: storage/migrations")


async def test_concurrent_runs_apply_each_file_once(behind, make_client):
    client = await make_client(database_url=behind)
    responses = await asyncio.gather(*(run(client) for _ in range(3)))
    assert [r.status for r in responses] == [200, 200, 200]
    applied = [name for r in responses for name in (await r.json())["data"]["applied"]]
    assert applied == [NEWEST]


async def test_a_changed_migration_stops_the_run_with_a_500(behind, make_client):
    conn = await asyncpg.connect(behind)
    try:
        await conn.execute("update schema_migrations set checksum = 'tampered' where version = 1")
    finally:
        await conn.close()
    client = await make_client(database_url=behind)
    resp = await run(client)
    assert resp.status == 500
    body = await resp.json()
    assert body["message"].startswith("Migration failed: 0001_jobs.sql changed after it was applied")
    assert NEWEST not in await applied_names(behind)


async def test_on_the_api_domain_host(behind, make_client):
    client = await make_client(database_url=behind, api_domain=API_HOST)
    resp = await client.post("/admin/migrate", json={}, headers=JSON | {"Host": API_HOST, "X-RUN-MIG-TOKEN": TOKEN})
    assert resp.status == 200
    assert (await resp.json())["data"]["applied"] == [NEWEST]
    resp = await client.post("/admin/migrate", json={}, headers=JSON | {"Host": API_HOST, "X-RUN-MIG-TOKEN": "no"})
    assert resp.status == 403
