"""Running `roost` as the operator runs it: a subprocess of the CLI, with the test session's
database and Redis in its environment. `cli_env` is a fixture for every test (tests/conftest.py
loads this module as a plugin); tests import `roost`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RAY_"))}
    env.update(
        APP_ENV="testing",
        APP_KEY=settings.app_key,
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        REDIS_PREFIX=settings.redis_prefix,
        ROOST_DATA_DIR=str(settings.roost_data_dir),
        PASSWORD_HASH_TIME_COST=str(settings.password_hash_time_cost),
        PASSWORD_HASH_MEMORY_KIB=str(settings.password_hash_memory_kib),
        LOG_LEVEL="WARNING",
    )
    return env


async def roost(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.ops.cli", *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()
