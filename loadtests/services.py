"""What a bench run stands on: PostgreSQL/Redis, a fresh migrated database, and the two servers.

Everything started here is stopped here, in reverse order, also on error and Ctrl-C: callers
register each `stop` on one ExitStack right after the `start` succeeds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from gateway.ops.embedded import EmbeddedServices, Endpoints
from loadtests.progress import progress
from storage.migrate import migrate

REPO_ROOT = Path(__file__).resolve().parent.parent
# Roost's start includes a local Ray (about 6 s here) and migrations; generous for a loaded machine.
READY_TIMEOUT_S = 120.0
# run_app's graceful shutdown plus ray.shutdown(); past this the process group is killed.
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Cores:
    """Servers on one core, wrk on another, so the generator never competes with what it measures."""

    server: int | None
    generator: int | None

    @classmethod
    def detect(cls) -> Cores:
        allowed = sorted(os.sched_getaffinity(0))
        if shutil.which("taskset") is None or len(allowed) < 2:
            return cls(server=None, generator=None)
        return cls(server=allowed[0], generator=allowed[-1])

    @property
    def pinned(self) -> bool:
        return self.server is not None

    def server_prefix(self) -> list[str]:
        return ["taskset", "-c", str(self.server)] if self.server is not None else []


def sigterm_as_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C: every `finally` and ExitStack callback stops what it started.

    Call again after ray.init(): Ray's core worker installs its own SIGTERM handler, which dumps
    a stack and exits without running any of that cleanup.
    """

    def handler(signum: int, frame: object) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


class FreshDatabase:
    """A database of this run's own on the server, migrated; dropped by `stop`."""

    def __init__(self, server_dsn: str) -> None:
        self._server_dsn = server_dsn
        self.name = f"roost_bench_{uuid.uuid4().hex[:10]}"
        self.dsn = with_database(server_dsn, self.name)

    async def _create(self) -> None:
        admin = await asyncpg.connect(self._server_dsn)
        try:
            await admin.execute(f'create database "{self.name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(self.dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def _drop(self) -> None:
        admin = await asyncpg.connect(self._server_dsn)
        try:
            await admin.execute(f'drop database if exists "{self.name}" with (force)')
        finally:
            await admin.close()

    def start(self) -> str:
        asyncio.run(self._create())
        return self.dsn

    def stop(self) -> None:
        asyncio.run(self._drop())


def start_backing_services(data_dir: Path) -> tuple[EmbeddedServices, Endpoints]:
    """PostgreSQL and Redis from DATABASE_URL/REDIS_URL, or embedded ones when those are unset."""
    embedded = EmbeddedServices(
        data_dir=data_dir,
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        ray_address=os.environ.get("RAY_ADDRESS") or None,
    )
    return embedded, embedded.start()


@dataclass
class ServerProcess:
    """One HTTP server subprocess on a loopback port, its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    log_path: Path
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        progress(f"starting {self.name} on {self.url} (log: {self.log_path})")
        with open(self.log_path, "wb") as log:
            # Its own session: a Ctrl-C in the terminal reaches only bench.py, which then stops
            # the servers in order (Roost must get to shut its Ray instance down).
            self._proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited before it was ready:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            progress(f"{self.name} did not stop in {STOP_TIMEOUT_S:.0f} s; killing its process group")
            os.killpg(proc.pid, signal.SIGKILL)  # the group this bench started (start_new_session)
            proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def roost_server(
    *,
    work_dir: Path,
    database_url: str,
    redis_url: str,
    namespace: str,
    cores: Cores,
    name: str = "roost",
    extra_env: Mapping[str, str] | None = None,
) -> ServerProcess:
    port = free_port()
    env = dict(os.environ)
    env.update(
        APP_ENV="development",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        ROOST_DATA_DIR=str(work_dir / f"{name}-data"),
        ROOST_RAY_NAMESPACE=f"{namespace}-{name}",
        # both Roosts of a feature-pricing scenario share one Redis; keep their keys apart
        REDIS_PREFIX=f"{namespace}-{name}",
        # A benchmark measures allowed requests: limits far above anything a run sends, so the
        # throttle's work is done on every request but never answers 429.
        THROTTLE_API_PER_MINUTE="1000000000",
        THROTTLE_PUBLIC_API_PER_MINUTE="1000000000",
        THROTTLE_PETCARE_PER_HOUR="1000000000",
        THROTTLE_PETCARE_PHOTOS_PER_HOUR="1000000000",
        THROTTLE_PETCARE_SEARCH_PER_HOUR="1000000000",
        ACCESS_LOG="false",
    )
    env.update(extra_env or {})
    serve = ["-m", "gateway.ops.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv = [*cores.server_prefix(), sys.executable, *serve]
    return ServerProcess(name, argv, env, port, "/readyz", work_dir / f"{name}.log")


def baseline_server(*, work_dir: Path, database_url: str, cores: Cores) -> ServerProcess:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url)
    script = str(Path(__file__).with_name("baseline.py"))
    argv = [*cores.server_prefix(), sys.executable, script, "--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess("baseline", argv, env, port, "/ready", work_dir / "baseline.log")
