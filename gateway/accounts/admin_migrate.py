"""003's POST /api/admin/migrate: run the project's own migrations over HTTP, for operators without
a terminal on the server.

Off unless ALLOW_RUN_MIG=true. The caller proves itself with RUN_MIG_TOKEN (header
`X-RUN-MIG-TOKEN`, else body `token`), compared in constant time; outside development the
configured token must be a long random secret (domain/settings.py refuses to start otherwise, and
this route refuses too, for settings built without validation). Throttled 10 a minute per client
address before any check, so the token cannot be guessed at speed. The run is storage/migrate.py's
runner, as `roost migrate` runs it: under its advisory lock, every applied file's checksum
checked, pending files applied in order, each in its own transaction.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, Field

from domain.errors import Forbidden, Invalid, RoostError
from domain.settings import run_mig_token_problem
from gateway.accounts.openapi import WRITE_ERRORS
from gateway.accounts.schemas import render
from gateway.kernel.api_envelope import success
from gateway.kernel.client_address import client_ip
from gateway.kernel.fields import FORM_CONFIG
from gateway.kernel.keys import pool_key, settings_key, throttles_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.throttle import Limit
from gateway.kernel.validation import read_body, validate
from storage.migrate import MIGRATIONS_DIR, MigrationError, discover, migrate

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-RUN-MIG-TOKEN"
# the reference's throttle:10,1
LIMIT = Limit("admin-migrate", 10, 60)
PATH_MAX = 1024
# `path` may be given as Laravel's --path is (relative to the project root), relative to the
# migrations folder, or absolute; whichever way, it must resolve inside the folder
PROJECT_ROOT = MIGRATIONS_DIR.parent.parent
SEED_NOTE = "Seeding: Roost's seed data (pet types, packages, the task library) ships in its migrations."


class MigrationsDisabled(Forbidden):
    code, message = "migrations_disabled", "Migrations via HTTP are disabled"


class InvalidMigrationToken(Forbidden):
    code, message = "invalid_migration_token", "Invalid migration token"


class MigrationFailed(RoostError):
    status, code, title, message = 500, "migration_failed", "Server Error", "Migration failed"


class MigrateIn(BaseModel):
    model_config = FORM_CONFIG

    token: str | None = Field(default=None, max_length=1024, description=f"Unless sent as `{TOKEN_HEADER}`.")
    seed: bool = Field(default=False, description="Also run the seeding.")
    path: str | None = Field(
        default=None,
        max_length=PATH_MAX,
        description="The migrations folder or one migration file in it; anything outside is refused.",
    )


class MigrateResult(BaseModel):
    output: str = Field(description="What the runner did, one line per step (the reference's Artisan output).")
    applied: list[str] = Field(description="The migration files applied by this run, in order.")
    seeded: bool


def _token_ok(given: str | None, expected: str) -> bool:
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def migrations_path(raw: str) -> Path:
    """The migrations folder or a migration file inside it that `raw` names; 422 for anything else
    (`..`, symlinks and absolute paths are resolved, strictly, before the test)."""
    given = Path(raw)
    candidates = [given] if given.is_absolute() else [PROJECT_ROOT / given, MIGRATIONS_DIR / given]
    folder = MIGRATIONS_DIR.resolve()
    for candidate in candidates:
        try:
            # the OS looks the path up as given (`a_file/..` is no folder), then it is resolved
            if not candidate.exists():
                continue
            resolved = candidate.resolve(strict=True)
            if resolved == folder:
                return resolved
            if resolved.parent == folder and resolved.is_file() and resolved.suffix == ".sql":
                return resolved
        except OSError:  # nothing there, a file used as a folder, a name too long, a loop of symlinks
            continue
    raise Invalid(fields={"path": ["The path must name the migrations folder or a migration file in it."]})


def _known(path: Path) -> None:
    if path.is_file() and path.name not in {m.name for m in discover()}:
        raise Invalid(fields={"path": ["The path must name the migrations folder or a migration file in it."]})


@documented(
    "Run the database migrations",
    description=(
        f"Off unless ALLOW_RUN_MIG=true (403). The token is RUN_MIG_TOKEN, sent as `{TOKEN_HEADER}` or the "
        "body's `token` (403 when wrong). Throttled to 10 a minute per client address. Pending migrations "
        "are applied in order under the runner's advisory lock; a file changed after it was applied stops "
        "the run (500)."
    ),
    response=MigrateResult,
    body=MigrateIn,
    headers_in={TOKEN_HEADER: "RUN_MIG_TOKEN (or the body's `token`)."},
    errors=(*WRITE_ERRORS, 500),
)
async def run(request: web.Request) -> web.Response:
    """POST /api/admin/migrate {token?, seed?, path?} → 200 "Migrations completed" {output, applied, seeded}."""
    await request.config_dict[throttles_key].enforce(request, LIMIT, client_ip(request))
    s = request.config_dict[settings_key]
    if not s.allow_run_mig:
        raise MigrationsDisabled()
    problem = run_mig_token_problem(s.app_env, s.run_mig_token)
    if problem:
        log.error("admin migrate misconfigured: %s", problem)
        raise MigrationsDisabled()
    body = await read_body(request)
    raw_token = request.headers.get(TOKEN_HEADER) or (body.get("token") if isinstance(body, dict) else None)
    if not isinstance(raw_token, str) or not _token_ok(raw_token, s.run_mig_token or ""):
        log.warning("admin migrate: invalid token", extra={"remote": client_ip(request)})
        raise InvalidMigrationToken()
    data = validate(MigrateIn, body)
    lines: list[str] = []
    if data.path is not None:
        target = migrations_path(data.path)
        _known(target)
        # The runner applies the whole sequence in order, never one file alone: the recorded
        # checksums describe the sequence, and a later file may need an earlier one.
        lines.append(f"Path: {target.relative_to(PROJECT_ROOT)}")
    try:
        async with request.config_dict[pool_key].acquire() as conn:
            applied = await migrate(conn)
    except MigrationError as exc:
        log.error("admin migrate refused: %s", exc)
        raise MigrationFailed(f"Migration failed: {exc}") from exc
    except Exception as exc:  # a migration's SQL failed: its transaction is rolled back, the reason reported
        log.exception("admin migrate failed")
        raise MigrationFailed(f"Migration failed: {type(exc).__name__}: {exc}") from exc
    lines += [f"Migrated: {name}" for name in applied] or ["Nothing to migrate."]
    if data.seed:
        lines.append(SEED_NOTE)
    log.warning("admin migrate ran", extra={"applied": applied, "remote": client_ip(request)})
    result = MigrateResult(output="\n".join(lines), applied=applied, seeded=data.seed)
    return success(render(result), "Migrations completed")
