"""`OpsContext`: the one object every `roost` command receives, and its click decorator.

The one-shot commands run the same domain code as the gateway (Accounts, domain.api_keys, ...)
against DATABASE_URL, or against the embedded PostgreSQL under ROOST_DATA_DIR that `roost serve`
uses (pgserver counts its users, so a running gateway keeps its server). Pending migrations are
applied first, as `roost migrate` would. Failures print one line on stderr and exit 1.

A command returns its exit code; the root group (cli.py) exits with it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import asyncpg
import click
from pydantic import ValidationError

from domain.errors import RoostError
from domain.settings import Settings
from gateway.ops.embedded import (
    EmbeddedServices,
    clear_state,
    descendants,
    has_database,
    read_state,
    reap_dead_run,
    write_state,
)

if TYPE_CHECKING:
    from domain.accounts import Accounts

# The embedded services' Redis slot is filled with this so that only PostgreSQL is started: a
# private Redis that no gateway listens on would be of no use to a one-shot command.
_NO_EMBEDDED_REDIS = "unused://"

P = ParamSpec("P")
R = TypeVar("R")


class _NoRevocations:
    """Without REDIS_URL there is no shared channel to publish on: the gateways (if any) run with
    their own embedded Redis, and their cache entries expire within the token cache's TTL."""

    async def tokens_revoked(self, token_hashes: list[str]) -> None:
        pass

    async def user_changed(self, user_id: int) -> None:
        pass


class OpsContext:
    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings

    @property
    def settings(self) -> Settings:
        """Read from the environment the first time a command asks, not when the group is
        entered: click runs the group before it parses the subcommand, and a usage error or
        `--help` must not depend on the environment being valid."""
        if self._settings is None:
            from gateway.kernel.logs import configure_logging

            try:
                self._settings = Settings()
            except ValidationError as exc:
                print(f"roost: invalid settings:\n{exc}", file=sys.stderr)
                raise SystemExit(2) from None
            # A one-shot command prints its answer and nothing else: its progress (embedded server
            # starts and stops) is logged only when LOG_LEVEL asks for it. `serve` logs at
            # LOG_LEVEL (its default, INFO) and reconfigures (serve.py).
            explicit = "log_level" in self._settings.model_fields_set
            configure_logging(self._settings.log_level if explicit else "WARNING")
        return self._settings

    def embedded(self, *, redis: bool = True, create_database: bool = True) -> EmbeddedServices:
        """The configured servers, with embedded ones in place of unset URLs (for Redis only
        when `redis`; a fresh embedded database only when `create_database`)."""
        s = self.settings
        return EmbeddedServices(
            data_dir=s.roost_data_dir,
            database_url=s.database_url,
            redis_url=s.redis_url if redis else _NO_EMBEDDED_REDIS,
            ray_address=s.ray_address,
            create_database=create_database,
        )

    def serving(self) -> dict[str, Any] | None:
        """What the running `roost serve` of this data folder started (None: none is running)."""
        return read_state(self.settings.roost_data_dir)

    def record_serving(self, state: dict[str, Any]) -> None:
        """Write serve.json, with the processes this one has started so far (`reap_dead_run`)."""
        write_state(self.settings.roost_data_dir, {**state, "children": descendants()})

    def reap_dead_run(self) -> list[int]:
        """Stop what a killed `roost serve` of this data folder left running (embedded.py)."""
        return reap_dead_run(self.settings.roost_data_dir)

    def clear_serving(self) -> None:
        clear_state(self.settings.roost_data_dir)

    def has_database(self) -> bool:
        """Whether the data folder holds an embedded database."""
        return has_database(self.settings.roost_data_dir)

    @staticmethod
    async def migrate(dsn: str) -> list[str]:
        """Apply pending migrations; the names of those applied."""
        from storage.migrate import migrate
        from storage.pool import connect

        conn = await connect(dsn)
        try:
            return await migrate(conn)
        finally:
            await conn.close()

    @asynccontextmanager
    async def pool(self, *, read_only: bool = False) -> AsyncIterator[asyncpg.Pool]:
        """A small pool on the migrated database, its embedded server stopped afterwards. A
        `read_only` command refuses (exit 1) where there is no embedded database yet, instead of
        creating an empty one and reporting that it holds nothing."""
        from storage.pool import create_pool

        # pgserver narrates every start and stop at INFO; an operator running one command wants its answer
        logging.getLogger("pgserver").setLevel(max(logging.WARNING, logging.getLogger().level))
        services = self.embedded(redis=False, create_database=not read_only)
        dsn = services.start().database_url
        try:
            await self.migrate(dsn)
            pool = await create_pool(dsn, min_size=1, max_size=2)
            try:
                yield pool
            finally:
                await pool.close()
        finally:
            services.stop()

    @asynccontextmanager
    async def accounts(self) -> AsyncIterator[Accounts]:
        """Accounts as the gateway builds it. set-premium must reach running gateways' token caches
        (they hold a user's premium flag for up to their TTL), so with REDIS_URL set the revocations
        go through TokenCache's own publisher on the channel every gateway listens to."""
        import redis.asyncio as aioredis

        from domain.accounts import Accounts, Revocations
        from domain.passwords import PasswordHashing
        from gateway.kernel.auth.token_cache import TokenCache

        s = self.settings
        async with self.pool() as pool:
            hashing = PasswordHashing(
                time_cost=s.password_hash_time_cost, memory_kib=s.password_hash_memory_kib, max_concurrent=1
            )
            redis = aioredis.from_url(s.redis_url) if s.redis_url else None
            try:
                # Never start()ed: no listener, no write-behind; only its publishing is used.
                revocations: Revocations = (
                    TokenCache(pool, redis, prefix=s.redis_prefix) if redis is not None else _NoRevocations()
                )
                yield Accounts(
                    pool,
                    hashing,
                    revocations,
                    app_key=s.app_key,
                    jwt_ttl_s=s.jwt_ttl_s,
                    login_token_ttl_s=s.login_token_ttl_days * 86400,
                )
            finally:
                if redis is not None:
                    await redis.aclose()
                hashing.close()

    @staticmethod
    def run(work: Coroutine[Any, Any, int]) -> int:
        """Run a command's async work to its exit code; a refusal or an unreachable database is
        one line on stderr and exit 1, not a traceback."""
        try:
            return asyncio.run(work)
        except RoostError as err:
            detail = "; ".join(m for msgs in err.fields.values() for m in msgs)
            return OpsContext.fail(detail or err.message)
        except (OSError, asyncpg.PostgresError) as exc:
            return OpsContext.fail(f"database error: {type(exc).__name__}: {exc}")

    @staticmethod
    def fail(message: str) -> int:
        """One `roost: ...` line on stderr; exit code 1."""
        print(f"roost: {message}", file=sys.stderr)
        return 1


def pass_ops(command: Callable[Concatenate[OpsContext, P], R]) -> Callable[P, R]:
    """Hands a command the root group's context (made on first use, or the one a test passes as
    `obj`), with the settings read first: every command starts from valid settings and configured
    logging, whatever it checks before touching them."""

    @click.pass_context
    def with_ops(ctx: click.Context, /, *args: P.args, **kwargs: P.kwargs) -> R:
        ops = ctx.ensure_object(OpsContext)
        ops.settings  # noqa: B018  (read for its effect: exit 2 on invalid settings)
        return command(ops, *args, **kwargs)

    return functools.update_wrapper(with_ops, command)
