"""The `roost` group in-process (click's CliRunner): its commands, usage errors and refusals that
come before any database, the exit codes operators' scripts rely on, and the package's own rule
that command modules import only the context."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.ops.cli import roost
from gateway.ops.context import OpsContext

OPS = Path(__file__).resolve().parents[2] / "gateway" / "ops"


@pytest.fixture
def invoke(settings):
    def run(*args: str):
        return CliRunner().invoke(roost, list(args), obj=OpsContext(settings), catch_exceptions=False)

    return run


def test_every_command_is_in_the_group():
    assert sorted(roost.commands) == [
        "api-logs", "apikeys", "check", "mail", "migrate", "packages", "serve", "settings", "tenants", "users",
    ]
    assert sorted(roost.commands["users"].commands) == ["create", "set-premium"]
    assert sorted(roost.commands["settings"].commands) == ["get", "list", "set"]


@pytest.mark.parametrize("args", [[], ["users"], ["nope"], ["users", "create", "--password", "p"]])
def test_usage_errors_exit_2(invoke, args):
    assert invoke(*args).exit_code == 2


def test_a_negative_limit_is_a_usage_error(invoke):
    result = invoke("packages", "create", "neg", "--photo-limit", "-1", "--gallery-days", "1")
    assert result.exit_code == 2
    assert "Invalid value for '--photo-limit': -1 is not in the range 0<=x<=2147483647." in result.output


def test_a_bad_email_is_refused_before_any_database(invoke):
    result = invoke("users", "create", "--email", "not-an-email", "--password", "p")
    assert result.exit_code == 1
    assert result.stderr == "roost: not an email address: 'not-an-email'\n"
    result = invoke(
        "tenants", "create", "--name", "T", "--package", "pro", "--admin-email", "x@", "--admin-password", "p"
    )
    assert (result.exit_code, result.stderr) == (1, "roost: not an email address: 'x@'\n")


def test_a_package_name_without_letters_is_refused(invoke):
    result = invoke("packages", "create", " !! ", "--photo-limit", "1", "--gallery-days", "1")
    assert (result.exit_code, result.stderr) == (1, "roost: the package name needs at least one letter or digit\n")


def test_invalid_settings_exit_2_before_the_command_runs():
    result = CliRunner(env={"APP_ENV": "bogus"}).invoke(roost, ["users", "create", "--email", "x", "--password", "p"])
    assert result.exit_code == 2
    assert result.stderr.startswith("roost: invalid settings:\n1 validation error for Settings\napp_env\n")


def test_help_needs_no_valid_settings():
    result = CliRunner(env={"APP_ENV": "bogus"}).invoke(roost, ["users", "create", "--help"])
    assert result.exit_code == 0
    assert "--verified" in result.output


def _ops_modules_imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "gateway.ops":
            found |= {f"gateway.ops.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("gateway.ops.")}


def test_command_modules_import_only_the_context():
    shared = ("__init__.py", "cli.py", "context.py", "embedded.py")
    commands = sorted(p.name for p in OPS.glob("*.py") if p.name not in shared)
    assert commands == [
        "api_logs.py", "check.py", "mail.py", "runtime_settings.py", "serve.py", "tenants.py", "users.py",
    ]
    for name in commands:
        assert _ops_modules_imported(OPS / name) == {"gateway.ops.context"}, name
    assert _ops_modules_imported(OPS / "context.py") == {"gateway.ops.embedded"}
