"""The CLI finds the server's data wherever it is run from, and a read command never creates an
empty database to report on (issue 16, point 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOST = Path(sys.executable).with_name("roost")
ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ROOST_DATA_DIR")}
    env.update(APP_ENV="development", LOG_LEVEL="WARNING", **extra)
    return env


def _default_data_dir(cwd: Path) -> str:
    code = "from domain.settings import Settings; print(Settings().roost_data_dir)"
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=_env(), capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_default_data_dir_is_the_checkouts_var_from_any_folder(tmp_path):
    here, elsewhere = _default_data_dir(ROOT), _default_data_dir(tmp_path)
    assert here == elsewhere == str(ROOT / "var")


def test_read_command_refuses_where_there_is_no_database(tmp_path):
    data = tmp_path / "nothing-here"
    for args in (["tenants", "list"], ["settings", "list"], ["api-logs", "tail"]):
        proc = subprocess.run(
            [str(ROOST), *args], cwd=tmp_path, env=_env(ROOST_DATA_DIR=str(data)), capture_output=True, text=True
        )
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert f"no Roost database at {data}" in proc.stderr, (args, proc.stderr)
        assert "roost serve" in proc.stderr
        assert proc.stdout == ""
        # the refusal is all it says: no log lines, no third-party warnings (issue 16, point 7)
        assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert not data.exists(), "a read command must not create the data folder"


def test_check_fails_when_nothing_serves_the_data_folder(tmp_path):
    data = tmp_path / "var"
    proc = subprocess.run(
        [str(ROOST), "check"], cwd=tmp_path, env=_env(ROOST_DATA_DIR=str(data)), capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        f"postgres: embedded, not running (`roost serve` starts it; data folder {data} holds no database yet)"
        in proc.stdout
    )
    assert "redis: embedded, not running" in proc.stdout
    assert "not configured" not in proc.stdout
    assert proc.stderr == ""


def test_a_command_prints_only_its_answer(tmp_path):
    """A one-shot command on a real embedded database: its answer on stdout, nothing on stderr
    (no embedded server narration, no platformdirs warning)."""
    env = _env(ROOST_DATA_DIR=str(tmp_path / "var"))
    migrated = subprocess.run([str(ROOST), "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stderr == ""
    listed = subprocess.run([str(ROOST), "packages", "list"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""
    assert "free" in listed.stdout
