"""`roost api-logs prune|tail`: the /api request log (`api_request_logs`)."""

from __future__ import annotations

import click

from domain import system_settings
from gateway.ops.context import OpsContext, pass_ops
from storage import request_logs as logs_sql


@click.group("api-logs", help="the /api request log")
def api_logs() -> None:
    pass


@api_logs.command("prune", help="delete rows older than api_request_logs_retention_days")
@click.option("--days", type=click.IntRange(min=1), help="override the retention setting for this run")
@pass_ops
def api_logs_prune(ops: OpsContext, days: int | None) -> int:
    async def work() -> int:
        async with ops.pool() as pool, pool.acquire() as conn:
            keep_days = days or await system_settings.read(conn, "api_request_logs_retention_days")
            deleted = await logs_sql.prune(conn, keep_days)
        print(f"pruned {deleted} api request log rows older than {keep_days} days")
        return 0

    return ops.run(work())


@api_logs.command("tail", help="print the newest rows, oldest first")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@pass_ops
def api_logs_tail(ops: OpsContext, limit: int) -> int:
    async def work() -> int:
        async with ops.pool(read_only=True) as pool, pool.acquire() as conn:
            rows = await logs_sql.tail(conn, limit)
        for r in rows:
            user = r["user_id"] if r["user_id"] is not None else "-"
            print(
                f"{r['created_at'].isoformat()} {r['method']} /{r['path']} {r['status_code']} "
                f"route={r['route_uri'] or '-'} auth={r['auth_mode']} user={user}"
            )
        return 0

    return ops.run(work())
