"""The bare baseline: plain aiohttp handlers doing the same work as Roost's, with nothing around them.

No middlewares, no access log, no envelope helpers, no actors: each handler does what the matching
Roost route must do at minimum (the same SQL, or building the same JSON), so the ratio measures
what Roost's stack costs on top. Same Python, same event loop (uvloop), same pool sizes.

Run by bench.py as `python loadtests/baseline.py --port N` with DATABASE_URL set; /ready answers
once the pool is open. An HTTP scenario that needs a new bare handler adds it to `setup_routes`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson
from aiohttp import web

# Run as a script, this file's folder is on sys.path but the repository root is not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.meal_totals import FoodFacts, MealEntry, day_bounds, local_day, nutrition, server_zone  # noqa: E402
from domain.meals import Scope, Today  # noqa: E402
from domain.settings import Settings  # noqa: E402
from gateway.petcare.meal_models import meal_public, today_summary  # noqa: E402  (the same JSON shapes)
from gateway.petcare.user_views import user_view  # noqa: E402  (the same JSON shape)
from gateway.pethealth.pet_views import pet_view, summary_view  # noqa: E402  (the same JSON shapes)
from storage import groups as groups_sql  # noqa: E402  (the same SQL)
from storage import meals as meals_sql  # noqa: E402  (the same SQL)
from storage import pets as pets_sql  # noqa: E402  (the same SQL)
from storage import users as users_sql  # noqa: E402
from storage.pool import init_connection  # noqa: E402  (same codecs: decoding is part of the work)

pool_key = web.AppKey("pool", asyncpg.Pool)
dsn_key = web.AppKey("dsn", str)
# name -> (body, etag): responses a scenario's setup stored (POST /memory/{name})
memory_key = web.AppKey("memory", dict)

# The gateway's defaults (DB_POOL_MIN/DB_POOL_MAX), so neither side gets more connections.
POOL_MIN, POOL_MAX = 2, 10


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


async def ready(request: web.Request) -> web.Response:
    async with request.app[pool_key].acquire() as conn:
        await conn.fetchval("select 1")
    return _json({"status": "ok"})


async def ping(request: web.Request) -> web.Response:
    """The same body as Roost's GET /api/ping, built the same way (a fresh timestamp each time)."""
    return _json(
        {
            "success": True,
            "status": "success",
            "data": {"status": "ok"},
            "message": "OK",
            "code": 200,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


async def my_pets(request: web.Request) -> web.Response:
    """GET /api/my-pets's work without the gateway: the same two statements (the pets, then all
    their health summaries in one query) and the same JSON, for a user id taken from the path
    instead of a token; no auth, throttle, quota or request log."""
    user_id = int(request.match_info["user_id"])
    async with request.app[pool_key].acquire() as conn:
        rows = await pets_sql.list_owned(conn, user_id)
        summaries = await pets_sql.health_summaries(conn, [r["id"] for r in rows])
    data = [{**pet_view(r), "health_summary": summary_view(summaries.get(r["id"]))} for r in rows]
    return _json(
        {
            "success": True,
            "status": "success",
            "data": data,
            "message": "Pets retrieved successfully.",
            "code": 200,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


# only app_url is read (absolute avatar links): the defaults, not this process's environment
_VIEW_SETTINGS = Settings.model_construct()


async def user_me(request: web.Request) -> web.Response:
    """002's GET /user/me without the gateway: the same two statements on one connection (the user,
    their personal group) and the same JSON, for a user id from the path instead of a JWT."""
    user_id = int(request.match_info["user_id"])
    async with request.app[pool_key].acquire() as conn:
        user = await users_sql.get_or_404(conn, user_id)
        group_id = await groups_sql.personal_group_id(conn, user_id)
    data = user_view(user, group_id, _VIEW_SETTINGS)
    return _json({"status": 1, "data": data, "message": f"Welcome, {user['name'] or ''}!"})


async def meals_today(request: web.Request) -> web.Response:
    """002's GET /meals/today for a pet without the gateway or the aggregates: its day's totals by
    the aggregate SQL and its meals, two statements on one connection, and the same JSON; no JWT,
    no access check, no actor, for a pet id from the path."""
    pet_id = int(request.match_info["pet_id"])
    async with request.app[pool_key].acquire() as conn:
        zone = await conn.fetchval(
            "select g.timezone from pets p left join groups g on g.id = p.group_id where p.id = $1", pet_id
        ) or server_zone()
        day = local_day(time.time(), zone)
        start, end = day_bounds(day, zone)
        t = await meals_sql.day_totals(conn, pet_id, start, end)
        rows = await meals_sql.day_entries(conn, pet_id, start, end)
    totals = {
        "meals": t["meals"], "calories": round(t["calories"], 2), "weight_g": round(t["weight_g"], 2),
        **{name: round(t[name], 2) for name in ("protein_g", "fat_g", "moisture_g", "carbohydrate_g")},
        "by_type": {name: t[name] for name in ("breakfast", "lunch", "dinner", "snack")}, "pets_fed": t["pets_fed"],
    }
    scope = Scope("pet", t["id"], zone, 0, t["name"], t["daily_calorie_target"], t["group_id"])
    data = today_summary(Today(scope, day.isoformat(), totals, [MealEntry.of(r) for r in rows]))
    return _json({"status": 1, "data": data, "message": f"Today's meal summary retrieved for {day.isoformat()}"})


async def meal_log(request: web.Request) -> web.Response:
    """002's POST /meals without the gateway: the food's row, the same nutrition arithmetic, the
    same INSERT and the same answer (the meal read back); no JWT, pet access, row lock, versions or
    aggregates."""
    body = orjson.loads(await request.read())
    async with request.app[pool_key].acquire() as conn:
        food = await conn.fetchrow("select * from foods where id = $1 and deleted_at is null", int(body["food_id"]))
        n = nutrition(FoodFacts.of(food), body["serving_type"], float(body["serving_amount"]))
        fields = {
            "food_id": food["id"], "fed_at": datetime.now(UTC), "meal_type": body.get("meal_type"),
            "serving_type": body["serving_type"], "serving_amount": float(body["serving_amount"]),
            "notes": body.get("notes"), "actual_weight_g": n.actual_weight_g, "calories": n.calories,
            "protein_g": n.protein_g, "fat_g": n.fat_g, "moisture_g": n.moisture_g, "carbohydrate_g": n.carbohydrate_g,
        }
        meal_id = await meals_sql.insert(conn, pet_id=int(body["pet_id"]), group_id=food["group_id"], fed_by=None,
                                         fields=fields)
        row = await meals_sql.meal_for(conn, meal_id, 0)
    assert row is not None  # just inserted, on this connection
    message = f"Meal recorded for {row['pet_name']} successfully"
    return _json({"status": 1, "data": meal_public(row), "message": message})


async def remember(request: web.Request) -> web.Response:
    """POST /memory/{name}: a scenario's setup hands over a body (and its ETag) to serve as is."""
    request.app[memory_key][request.match_info["name"]] = (await request.read(), request.headers["ETag"])
    return web.Response(status=204)


async def recall(request: web.Request) -> web.Response:
    """GET /memory/{name}: 001's guest stats without the gateway: the stored JSON with the same
    headers, or a 304 when If-None-Match names its ETag. No token lookup, snapshot or middleware."""
    body, etag = request.app[memory_key][request.match_info["name"]]
    headers = {"Cache-Control": "no-store", "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/ready", ready)
    app.router.add_get("/ping", ping)
    app.router.add_get("/my-pets/{user_id}", my_pets)
    app.router.add_get("/user-me/{user_id}", user_me)
    app.router.add_get("/meals-today/{pet_id}", meals_today)
    app.router.add_post("/meal-log", meal_log)
    app.router.add_post("/memory/{name}", remember)
    app.router.add_get("/memory/{name}", recall)


async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
    app[pool_key] = await asyncpg.create_pool(
        app[dsn_key], min_size=POOL_MIN, max_size=POOL_MAX, init=init_connection
    )
    yield
    await app[pool_key].close()


def create_baseline_app(database_url: str) -> web.Application:
    app = web.Application()
    app[dsn_key] = database_url
    app[memory_key] = {}
    app.cleanup_ctx.append(pool_ctx)
    setup_routes(app)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bare aiohttp baseline for loadtests/bench.py")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("baseline: DATABASE_URL is required", file=sys.stderr)
        return 2
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:  # the gateway falls back the same way
        loop = asyncio.new_event_loop()
    web.run_app(
        create_baseline_app(database_url), host=args.host, port=args.port, loop=loop, access_log=None, print=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
