"""Typed keys for everything shared through the application object."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

if TYPE_CHECKING:
    from actors.client import ShardClient
    from gateway.contracts import Contract
    from gateway.metrics import Metrics
    from gateway.settings import Settings
    from jobs.runtime import JobRunner

settings_key = web.AppKey("settings", "Settings")
pool_key = web.AppKey("pool", asyncpg.Pool)
redis_key = web.AppKey("redis", aioredis.Redis)
actors_key = web.AppKey("actors", "dict[str, ShardClient]")
jobs_key = web.AppKey("jobs", "JobRunner")
metrics_key = web.AppKey("metrics", "Metrics")
contract_key = web.AppKey("contract", "Contract")

# per-request storage
request_id_key = web.RequestKey("request_id", str)
