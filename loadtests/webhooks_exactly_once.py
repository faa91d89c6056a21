"""Exactly-once under load: N distinct RevenueCat events, each delivered K times, concurrently and
shuffled, against a running Roost; then the ledger must hold exactly N effects.

    DATABASE_URL=postgresql://... WEBHOOK_SECRET_REVENUECAT=... \\
        python loadtests/webhooks_exactly_once.py --host http://127.0.0.1:8731 \\
        [--events 1000] [--deliveries 3] [--concurrency 64] [--timeout 300] [--seed 1]

DATABASE_URL is the server's database: the setup step writes a fresh tenant there (on `free`),
and the check reads its ledger. WEBHOOK_SECRET_REVENUECAT is the secret the server was started
with. Every event buys `roost.credits.10` (10 credits); deliveries are signed in turn with the
three schemes the server accepts (sha256 with a signed timestamp, plain sha256, sha1), so the
redeliveries of one event differ in their headers but not in their body, as a provider's retries
would.

Passes (exit 0) when: no answer was 5xx or anything but 200; exactly N deliveries answered
`duplicate: false`; every event was processed within --timeout; the tenant's ledger has exactly N
entries, one per event id, whose credits add up to N x 10, each balance_after running on from the
one before, and the tenant's balance row says the same. Prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.webhooks import sign  # noqa: E402  (after the path set-up, so it runs from a checkout)

PATH = "/api/v1/webhooks/revenuecat"
PRODUCT = "roost.credits.10"
CREDITS = 10
SCHEMES = ("sha256+t", "sha256", "sha1")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="http://127.0.0.1:8000")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--deliveries", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for every event to be processed")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


async def _make_tenant(conn: asyncpg.Connection) -> int:
    slug = f"loadtest-{uuid.uuid4().hex[:10]}"
    return await conn.fetchval(
        "insert into tenants (name, slug, package_id) values ($1, $1, (select id from packages where slug = 'free'))"
        " returning id",
        slug,
    )


def _event(tenant_id: int, n: int, base_ms: int) -> tuple[str, bytes]:
    event_id = str(uuid.uuid4()).upper()
    document = {
        "api_version": "1.0",
        "event": {
            "id": event_id,
            "type": "NON_RENEWING_PURCHASE",
            "app_user_id": f"roost-tenant-{tenant_id}",
            "original_app_user_id": f"roost-tenant-{tenant_id}",
            "product_id": PRODUCT,
            "event_timestamp_ms": base_ms + n,
            "purchased_at_ms": base_ms + n,
            "environment": "PRODUCTION",
            "store": "APP_STORE",
            "transaction_id": f"lt-{event_id}",
            "original_transaction_id": f"lt-{event_id}",
            "price_in_purchased_currency": 9.99,
            "currency": "EUR",
        },
    }
    return event_id, orjson.dumps(document)


def _headers(secret: str, body: bytes, scheme: str) -> dict[str, str]:
    if scheme == "sha256+t":
        value = sign(secret, body, timestamp=int(time.time()))
    else:
        value = sign(secret, body, algorithm=scheme)
    return {"X-Signature": value, "Content-Type": "application/json"}


async def _deliver_all(
    host: str, secret: str, deliveries: list[tuple[str, bytes, str]], concurrency: int
) -> tuple[Counter[int], Counter[str], list[float], list[str]]:
    statuses: Counter[int] = Counter()
    firsts: Counter[str] = Counter()  # event id -> answers with duplicate: false
    latencies: list[float] = []
    errors: list[str] = []
    queue: asyncio.Queue[tuple[str, bytes, str]] = asyncio.Queue()
    for item in deliveries:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url=host, connector=connector) as session:

        async def worker() -> None:
            while True:
                try:
                    event_id, body, scheme = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    async with session.post(PATH, data=body, headers=_headers(secret, body, scheme)) as resp:
                        answer = await resp.read()
                        statuses[resp.status] += 1
                        if resp.status == 200 and not orjson.loads(answer)["duplicate"]:
                            firsts[event_id] += 1
                        elif resp.status != 200 and len(errors) < 10:
                            errors.append(f"{resp.status}: {answer[:200]!r}")
                except aiohttp.ClientError as exc:
                    statuses[0] += 1
                    if len(errors) < 10:
                        errors.append(f"{type(exc).__name__}: {exc}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses, firsts, latencies, errors


async def _wait_processed(conn: asyncpg.Connection, event_ids: list[str], timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    while True:
        done = await conn.fetchval(
            "select count(*) from webhook_events where provider = 'revenuecat' and event_id = any($1::text[])"
            " and status <> 'received'",
            event_ids,
        )
        elapsed = time.monotonic() - started
        if done >= len(event_ids) or elapsed > timeout:
            return done, elapsed
        await asyncio.sleep(0.5)


async def _ledger_check(conn: asyncpg.Connection, tenant_id: int) -> dict[str, Any]:
    entries = await conn.fetch(
        "select credits, balance_after, source from ledger_entries where tenant_id = $1 order by id", tenant_id
    )
    running, runs_on = 0, True
    for entry in entries:
        running += entry["credits"]
        runs_on = runs_on and entry["balance_after"] == running
    account = await conn.fetchval("select credits from tenant_accounts where tenant_id = $1", tenant_id)
    return {
        "ledger_entries": len(entries),
        "distinct_sources": len({e["source"] for e in entries}),
        "credits_sum": running,
        "balance_row": account,
        "balance_after_runs_on": runs_on,
        "event_statuses": dict(
            Counter(
                r["status"]
                for r in await conn.fetch("select status from webhook_events where tenant_id = $1", tenant_id)
            )
        ),
    }


async def main() -> int:
    args = _arguments()
    database_url = os.environ.get("DATABASE_URL")
    secret = os.environ.get("WEBHOOK_SECRET_REVENUECAT")
    if not database_url or not secret:
        raise SystemExit("webhooks_exactly_once.py: set DATABASE_URL and WEBHOOK_SECRET_REVENUECAT (the server's)")
    rng = random.Random(args.seed)
    conn = await asyncpg.connect(database_url)
    try:
        tenant_id = await _make_tenant(conn)
        base_ms = int(time.time() * 1000)
        events = [_event(tenant_id, n, base_ms) for n in range(args.events)]
        deliveries = [(eid, body, SCHEMES[k % len(SCHEMES)]) for eid, body in events for k in range(args.deliveries)]
        rng.shuffle(deliveries)

        started = time.perf_counter()
        statuses, firsts, latencies, errors = await _deliver_all(args.host, secret, deliveries, args.concurrency)
        send_s = time.perf_counter() - started
        event_ids = [eid for eid, _ in events]
        processed, wait_s = await _wait_processed(conn, event_ids, args.timeout)
        ledger = await _ledger_check(conn, tenant_id)
    finally:
        await conn.close()

    latencies.sort()
    n = args.events
    checks = {
        "no_5xx": not any(s >= 500 or s == 0 for s in statuses),
        "all_200": set(statuses) == {200},
        "one_first_delivery_per_event": len(firsts) == n and all(v == 1 for v in firsts.values()),
        "all_processed": processed == n,
        "exactly_n_effects": ledger["ledger_entries"] == n and ledger["distinct_sources"] == n,
        "balance_is_the_sum": ledger["credits_sum"] == n * CREDITS == ledger["balance_row"],
        "balance_after_runs_on": ledger["balance_after_runs_on"],
    }
    report = {
        "tenant_id": tenant_id,
        "events": n,
        "deliveries": len(deliveries),
        "concurrency": args.concurrency,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "send_s": round(send_s, 2),
        "deliveries_per_s": round(len(deliveries) / send_s, 1) if send_s else None,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1)
        if latencies
        else None,
        "processed_within_s": round(wait_s, 2),
        **ledger,
        "checks": checks,
        "errors": errors,
    }
    print(json.dumps(report))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
