"""The README's "Try it" section, run as written against `roost serve` on a non-default port and a
fresh data folder (issue 16: the quick start must work end to end for one journey per contract)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.ops.test_serve import free_port
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
ROOST = Path(sys.executable).with_name("roost")
README_PORT = "8100"


def _blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Try it\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_section_is_the_start_command_then_the_journeys():
    start, journeys = _blocks()
    assert start.startswith(f"make serve PORT={README_PORT}")
    assert f"B=http://127.0.0.1:{README_PORT}" in journeys
    for contract in ("003 accounts", "000 pet health", "002 pet care", "001 events"):
        assert f"# {contract}" in journeys


async def test_the_journeys_run_as_written(tmp_path):
    _, journeys = _blocks()
    port = str(free_port())
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS", "APP_URL")}
    env.update(ROOST_DATA_DIR=str(tmp_path / "var"), APP_ENV="development")
    log = open(tmp_path / "serve.log", "wb")
    # what `make serve PORT=8100` runs (Makefile), on a free port instead of 8100
    server = subprocess.Popen(
        [str(ROOST), "serve", "--port", port], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        return resp.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(ready, timeout=90, interval=0.5, what="roost serve answering /readyz")
        script = journeys.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
        out = run.stdout
        # each journey's last answer: the profile, the pet list, 002's user, the guest stats
        assert '"email":"ada@example.com"' in out
        assert '"name":"Mochi"' in out
        assert '"personal_group_id"' in out
        assert out.rstrip().endswith('{"online_guests":0,"tasks_solved":0,"latest_photo_at":null}')
    finally:
        server.terminate()
        server.wait(60)
        log.close()
