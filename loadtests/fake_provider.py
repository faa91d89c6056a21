"""A local AI provider for the ai_pool benchmark: Gorq's `POST /v1/generate` answered after a fixed
latency, Bearer key checked, with how many calls were in flight at most (`GET /stats`).

    python loadtests/fake_provider.py --port P --latency 0.1 --key K

A process of its own, so its event loop never competes with the bench driver's.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

stats_key = web.AppKey("stats", dict)
settings_key = web.AppKey("settings", argparse.Namespace)


async def generate(request: web.Request) -> web.Response:
    opts, stats = request.app[settings_key], request.app[stats_key]
    if request.headers.get("Authorization") != f"Bearer {opts.key}":
        return web.json_response({"error": "invalid api key"}, status=401)
    body = await request.json()
    stats["calls"] += 1
    stats["inflight"] += 1
    stats["peak"] = max(stats["peak"], stats["inflight"])
    try:
        await asyncio.sleep(opts.latency)
    finally:
        stats["inflight"] -= 1
    model = body.get("model") or "gorq-1"
    answer = {"id": f"gen-{stats['calls']}", "model": model, "output": "ok", "usage": {"total_tokens": 7}}
    return web.json_response(answer)


async def show_stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[stats_key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--key", required=True)
    opts = parser.parse_args()
    app = web.Application()
    app[settings_key] = opts
    app[stats_key] = {"calls": 0, "inflight": 0, "peak": 0}
    app.router.add_post("/v1/generate", generate)
    app.router.add_get("/stats", show_stats)
    web.run_app(app, host="127.0.0.1", port=opts.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
