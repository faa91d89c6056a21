"""`roost serve` end to end: embedded services up, /readyz 200, and everything stopped on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import psutil

from tests.waiting import eventually

ROOST = Path(sys.executable).with_name("roost")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _json_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # third-party output that is not ours (issue 16, point 7)
        if isinstance(entry, dict):
            out.append(entry)
    return out


def children_of(pid: int) -> set[int]:
    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


async def test_serve_on_embedded_defaults_then_stop_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS")}
    env.update(ROOST_DATA_DIR=str(tmp_path / "var"), APP_ENV="development")
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen(
        [str(ROOST), "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        async with aiohttp.ClientSession() as http:

            async def ready() -> dict | None:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        return await resp.json() if resp.status == 200 else None
                except aiohttp.ClientError:
                    return None  # not listening yet

            body = await eventually(ready, timeout=90, interval=0.5, what="roost serve answering /readyz")
            assert body == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok", "ray": "ok"}}, (
                tmp_path / "serve.log"
            ).read_text()[-3000:]
            async with http.get(f"http://127.0.0.1:{port}/api/ping") as resp:
                assert resp.status == 200
            # APP_URL unset: the links it writes point at the port it is bound to, and it says so
            # its output is one JSON object per line, third-party notices included (issue 16, point 7)
            lines = (tmp_path / "serve.log").read_text().splitlines()
            assert len(_json_lines(tmp_path / "serve.log")) == len(lines), [
                line for line in lines if not line.startswith("{")
            ]
            serving = [entry for entry in _json_lines(tmp_path / "serve.log") if entry.get("msg") == "serving"]
            assert len(serving) == 1, (tmp_path / "serve.log").read_text()[-3000:]
            announced = serving[0]
            assert announced["app_url"] == f"http://127.0.0.1:{port}"
            assert announced["app_url_from"] == "the bound address"
            # `roost check` finds what this server started (serve.json in its data folder) and probes it
            checked = subprocess.run([str(ROOST), "check"], cwd=tmp_path, env=env, capture_output=True, text=True)
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert f"roost serve: running (pid {proc.pid}" in checked.stdout, checked.stdout
            started_here = f"embedded, started by roost serve pid {proc.pid}"
            report = dict(line.split(": ", 1) for line in checked.stdout.splitlines())
            assert report["postgres"].startswith("ok ("), checked.stdout
            assert report["postgres"].endswith(started_here), checked.stdout
            assert report["redis"].startswith("ok ("), checked.stdout
            assert report["ray"] == f"embedded, local to roost serve pid {proc.pid} (its /readyz reports it)"
            document_url = f"http://127.0.0.1:{port}/openapi.json"
            async with http.get(document_url) as resp:
                assert resp.status == 200
        assert (tmp_path / "var" / "pg" / "postmaster.pid").exists()
        started = children_of(proc.pid)
        assert started, "embedded services run as child processes"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, (tmp_path / "serve.log").read_text()[-3000:]
        # PostgreSQL stopped (its pid file goes away with it) and no child is left running
        assert not (tmp_path / "var" / "pg" / "postmaster.pid").exists()
        assert not (tmp_path / "var" / "serve.json").exists()
        stopped = subprocess.run([str(ROOST), "check"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert stopped.returncode == 1
        held = f"data folder {tmp_path / 'var'} holds a database"
        assert f"postgres: embedded, not running (`roost serve` starts it; {held})" in stopped.stdout

        def leftovers() -> list[int]:
            return [p for p in started if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]

        await eventually(lambda: not leftovers(), timeout=10, what="every child of roost serve exiting")
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_app_url_follows_the_bound_address_unless_set():
    from domain.settings import Settings
    from gateway.ops.serve import app_url_for

    unset = Settings(_env_file=None)
    assert app_url_for(unset, "127.0.0.1", 8100) == "http://127.0.0.1:8100"
    assert app_url_for(unset, "0.0.0.0", 8100) == "http://127.0.0.1:8100"
    assert app_url_for(unset, "::", 8100) == "http://[::1]:8100"
    assert app_url_for(unset, "::1", 8100) == "http://[::1]:8100"
    assert app_url_for(unset, "roost.local", 80) == "http://roost.local:80"
    given = Settings(_env_file=None, app_url="https://api.example.com")
    assert app_url_for(given, "0.0.0.0", 8100) == "https://api.example.com"


def _start(tmp_path: Path, env: dict[str, str], port: int, name: str) -> subprocess.Popen:
    log = open(tmp_path / f"{name}.log", "wb")
    return subprocess.Popen(
        [str(ROOST), "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )


async def _ready(proc: subprocess.Popen, port: int, log: Path) -> None:
    async with aiohttp.ClientSession() as http:

        async def up() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(up, timeout=90, interval=0.5, what="roost serve answering /readyz")


def _running(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
        except psutil.NoSuchProcess:
            pass
    return out


async def test_a_killed_server_leaves_nothing_behind_after_the_next_clean_stop(tmp_path):
    """SIGKILL gives roost serve no chance to stop its children: Redis dies with it (parent-death
    signal), the next start stops what else it recorded and reuses PostgreSQL, and the next clean
    stop then stops everything (issue 16, point 5)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "RAY_ADDRESS")}
    env.update(ROOST_DATA_DIR=str(tmp_path / "var"), APP_ENV="development")
    port = free_port()
    first = _start(tmp_path, env, port, "first")
    try:
        await _ready(first, port, tmp_path / "first.log")
        started = children_of(first.pid)
        postmaster = int((tmp_path / "var" / "pg" / "postmaster.pid").read_text().split()[0])
        first.kill()
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()

    port = free_port()
    second = _start(tmp_path, env, port, "second")
    try:
        await _ready(second, port, tmp_path / "second.log")
        # the dead run's PostgreSQL serves the new one: same postmaster, no second server
        assert int((tmp_path / "var" / "pg" / "postmaster.pid").read_text().split()[0]) == postmaster
        await eventually(lambda: not _running(started), timeout=20, what="the killed run's children gone")
        started |= children_of(second.pid) | {postmaster}
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0, (tmp_path / "second.log").read_text()[-3000:]
    finally:
        if second.poll() is None:
            second.kill()
    await eventually(lambda: not _running(started), timeout=20, what="every process of both runs stopped")
    assert not (tmp_path / "var" / "pg" / "postmaster.pid").exists()
    assert not (tmp_path / "var" / "serve.json").exists()
