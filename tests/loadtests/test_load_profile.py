"""The mixed Locust profile (loadtests/mixed.py) for a few seconds against the app served on a real
port: every user kind takes part and nothing fails. Small on purpose (about 10 users, a handful
of seeded accounts, tenants and families); `make load` is the real run.

Locust runs in a subprocess (it monkey-patches the standard library with gevent at import) while
this test's event loop serves the app; its figures come back through `--summary-json`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from domain.settings import Settings
from storage import system_settings as settings_sql
from tests.ai_fakes import ai_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
KINDS = {"guests", "pet_owners", "families", "ai_clients", "tenant_admins"}
# the setup steps' fixed waits (runtime settings re-read) and hashing are most of it
RUN_TIMEOUT_S = 90
QUOTA_SETTING = "api_daily_quota_regular"


async def _run_locust(host: str, settings: Settings, summary: Path) -> tuple[int, str]:
    argv = [
        sys.executable, "-m", "locust", "-f", str(REPO_ROOT / "loadtests" / "mixed.py"), "--headless",
        "--only-summary", "-u", "10", "-r", "10", "-t", "8s", "--hosts", host,
        "--owners", "3", "--clients", "2", "--families", "2", "--members", "2", "--pets", "1",
        "--tenants", "1", "--admins", "2", "--tenant-events", "1", "--review-photos", "5",
        "--summary-json", str(summary),
    ]
    env = dict(os.environ, DATABASE_URL=settings.database_url, APP_KEY=settings.app_key)
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=REPO_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")


async def test_every_kind_of_user_runs_without_failures(
    aiohttp_server, settings, ray_session, fake_ai, pool, tmp_path
):
    from gateway.app import create_app

    app_settings = settings.model_copy(update={
        **ai_settings(fake_ai.base_url),
        # what `make load` raises: the per-user minute throttle (a profile sends more than a person)
        "throttle_api_per_minute": 1_000_000,
    })
    server = await aiohttp_server(create_app(app_settings))
    async with pool.acquire() as conn:
        quota_before = await settings_sql.get(conn, QUOTA_SETTING)
    summary = tmp_path / "summary.json"
    try:
        code, output = await _run_locust(f"http://127.0.0.1:{server.port}", app_settings, summary)
    finally:
        # the setup steps raise the session database's daily quota: put it back for other tests
        async with pool.acquire() as conn:
            if quota_before is None:
                await conn.execute("delete from system_settings where name = $1", QUOTA_SETTING)
            else:
                await settings_sql.put(conn, QUOTA_SETTING, quota_before)
    assert code == 0, output[-12000:]
    figures = json.loads(summary.read_text())
    assert figures["failures"] == 0, figures["errors"]
    requests_per_kind = {kind: k["requests"] for kind, k in figures["kinds"].items()}
    assert {kind for kind, n in requests_per_kind.items() if n > 0} == KINDS, output[-12000:]


@pytest.mark.parametrize(
    ("locustfile", "own_option"),
    [
        ("guests.py", "--event-token"),
        ("tenant_admins.py", "--review-photos"),
        ("pet_owners.py", "--owners"),
        ("families.py", "--members"),
        ("ai_clients.py", "--async-share"),
        ("mixed.py", "--summary-json"),
    ],
)
def test_each_file_keeps_its_own_command_line(locustfile, own_option):
    """Alone, each file defines the options it shares with the others, and mixed.py, importing them
    all, defines each once (argparse refuses a second definition). Locust's own parser, with the
    file's listeners registered, parses the file's options; its --help leaves locustfiles' out."""
    script = (
        "import runpy, sys\n"
        "from locust.argument_parser import get_parser\n"
        "runpy.run_path(sys.argv[1])\n"
        "opts = get_parser().parse_args(['--hosts', 'http://a,http://b', '--think', '0.5'])\n"
        "print(' '.join(sorted(vars(opts))))\n"
        "print(opts.hosts, opts.think, opts.max_failures)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(REPO_ROOT / "loadtests" / locustfile)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names, values = done.stdout.splitlines()[-2:]
    assert own_option.lstrip("-").replace("-", "_") in names.split()
    assert values == "http://a,http://b 0.5 0"
