"""A short local cache of token lookups, invalidated across gateway replicas through Redis.

Resolving a personal access token is one indexed query; doing it on every request would double
the cost of a cheap endpoint, so each gateway keeps recent lookups. A revocation (or a change to
the user that the entry carries) is published on a Redis channel and every replica evicts at once;
the TTL only bounds how long an entry can outlive a lost message. While the subscription is down
the cache is bypassed, because missed invalidations cannot be known.

`last_used_at` is written behind: uses are collected in memory and flushed in one statement every
few seconds, never one UPDATE per request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import redis.asyncio as aioredis

from domain.clock import SYSTEM_CLOCK, Clock
from domain.inputs import parse_positive_int
from domain.periodic import Periodic
from storage import tokens as tokens_sql
from storage import users as users_sql

log = logging.getLogger(__name__)

CHANNEL = "auth:invalidate"  # after the deployment's REDIS_PREFIX
# Safety net only: pub/sub evicts within milliseconds; this bounds the damage of a lost message.
ENTRY_TTL_S = 30.0
MAX_ENTRIES = 50_000
# last_used_at is for people ("used 3 minutes ago"), so seconds of delay cost nothing.
LAST_USED_FLUSH_S = 5.0
# The listener wakes this often even when no message comes, to notice a stop request.
LISTEN_POLL_S = 0.5
# A lost subscription is retried at once-ish, then less often while Redis stays away.
RECONNECT_FIRST_S = 0.1
RECONNECT_MAX_S = 5.0


@dataclass(frozen=True, slots=True)
class TokenEntry:
    token_id: int
    user_id: int
    abilities: tuple[str, ...]
    expires_at: datetime | None
    is_active: bool
    is_premium: bool
    is_admin: bool
    email_verified: bool
    fetched_at: float

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class UserEntry:
    """What sessions and JWTs need about their user (a PAT entry carries it already)."""

    user_id: int
    is_active: bool
    is_premium: bool
    is_admin: bool
    email_verified: bool
    token_epoch: int
    fetched_at: float


class TokenCache:
    def __init__(
        self,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        *,
        prefix: str = "roost",
        ttl_s: float = ENTRY_TTL_S,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._channel = f"{prefix}:{CHANNEL}"
        # the auth middleware checks token expiry against it too
        self.clock = clock
        # bound once: read on every lookup and every use
        self._monotonic, self._time = clock.monotonic, clock.time
        self._pool = pool
        self._redis = redis
        self._ttl_s = ttl_s
        self._entries: dict[str, TokenEntry] = {}
        self._by_user: dict[int, set[str]] = {}
        self._users: dict[int, UserEntry] = {}
        self._subscribed = False
        self._used: dict[int, datetime] = {}
        self._stopping = False
        self._reconnect_s = RECONNECT_FIRST_S
        # One subscription at a time, for as long as it lasts; a lost one is logged in
        # _listen_once and the loop subscribes again after a backoff (never giving up: without
        # it the cache stays bypassed and every request pays a query).
        self._listener = Periodic(
            "auth-invalidations", self._listen_once, self._next_reconnect_s, clock=clock, run_at_start=True
        )
        # flush() logs and keeps its batch on failure; the loop must outlive database blips
        self._flusher = Periodic("auth-last-used", self.flush, LAST_USED_FLUSH_S, clock=clock)

    # -- lookups ------------------------------------------------------------------------------

    async def lookup(self, token_hash: str) -> TokenEntry | None:
        now = self._monotonic()
        entry = self._entries.get(token_hash) if self._subscribed else None
        if entry is None or now - entry.fetched_at > self._ttl_s:
            async with self._pool.acquire() as conn:
                row = await tokens_sql.for_auth(conn, token_hash)
            if row is None:
                self._evict(token_hash)
                return None
            entry = TokenEntry(
                token_id=row["token_id"],
                user_id=row["user_id"],
                abilities=tuple(row["abilities"] or ()),
                expires_at=row["expires_at"],
                is_active=row["is_active"],
                is_premium=row["is_premium"],
                is_admin=row["is_admin"],
                email_verified=row["email_verified"],
                fetched_at=now,
            )
            if self._subscribed:
                self._store(token_hash, entry)
        return entry

    async def lookup_user(self, user_id: int) -> UserEntry | None:
        now = self._monotonic()
        entry = self._users.get(user_id) if self._subscribed else None
        if entry is None or now - entry.fetched_at > self._ttl_s:
            async with self._pool.acquire() as conn:
                row = await users_sql.for_auth(conn, user_id)
            if row is None:
                self._users.pop(user_id, None)
                return None
            entry = UserEntry(
                user_id=user_id,
                is_active=row["is_active"],
                is_premium=row["is_premium"],
                is_admin=row["is_admin"],
                email_verified=row["email_verified"],
                token_epoch=row["token_epoch"],
                fetched_at=now,
            )
            if self._subscribed:
                if len(self._users) >= MAX_ENTRIES:
                    self._users.clear()
                self._users[user_id] = entry
        return entry

    def now(self) -> datetime:
        """The wall clock that token expiry and last_used_at are read against."""
        return datetime.fromtimestamp(self._time(), UTC)

    def mark_used(self, token_id: int) -> None:
        self._used[token_id] = datetime.fromtimestamp(self._time(), UTC)

    # -- invalidation -------------------------------------------------------------------------

    async def tokens_revoked(self, token_hashes: list[str]) -> None:
        """Evict here and tell every other gateway. Call after the database change committed."""
        for h in token_hashes:
            self._evict(h)
        if token_hashes:
            await self._publish(*(f"token:{h}" for h in token_hashes))

    async def user_changed(self, user_id: int) -> None:
        """A user's flags changed (premium, active, deleted): drop every cached token of theirs."""
        self._evict_user(user_id)
        await self._publish(f"user:{user_id}")

    async def _publish(self, *messages: str) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for m in messages:
                    pipe.publish(self._channel, m)
                await pipe.execute()
        except Exception:
            # The change is committed; other replicas' entries die with their TTL at worst.
            log.exception("auth invalidation could not be published")

    def _store(self, token_hash: str, entry: TokenEntry) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
            self._by_user.clear()
        self._entries[token_hash] = entry
        self._by_user.setdefault(entry.user_id, set()).add(token_hash)

    def _evict(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is not None:
            hashes = self._by_user.get(entry.user_id)
            if hashes is not None:
                hashes.discard(token_hash)

    def _evict_user(self, user_id: int) -> None:
        self._users.pop(user_id, None)
        for h in self._by_user.pop(user_id, set()):
            self._entries.pop(h, None)

    def _apply(self, message: str) -> None:
        kind, _, value = message.partition(":")
        if kind == "token":
            self._evict(value)
        elif kind == "user" and (user_id := parse_positive_int(value)) is not None:
            self._evict_user(user_id)

    # -- background work ----------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._listener.start()
        self._flusher.start()

    async def stop(self) -> None:
        self._stopping = True
        await self._flusher.stop()
        # A pub/sub read can swallow cancellation (seen with redis-py on unix sockets); the
        # listener also checks _stopping between reads, so give it a moment, then move on.
        await self._listener.stop(timeout=LISTEN_POLL_S * 2)
        await self.flush()

    async def wait_subscribed(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not self._subscribed:
                await asyncio.sleep(0.01)

    def _next_reconnect_s(self) -> float:
        delay = self._reconnect_s
        self._reconnect_s = min(delay * 2, RECONNECT_MAX_S)
        return delay

    async def _listen_once(self) -> None:
        """One subscription: subscribe, apply messages until it is lost or we stop."""
        if self._stopping:
            return
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            # Entries cached before this subscription may have missed invalidations.
            self._entries.clear()
            self._by_user.clear()
            self._users.clear()
            self._subscribed = True
            self._reconnect_s = RECONNECT_FIRST_S
            while not self._stopping:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_POLL_S)
                if message is None:
                    continue
                data = message.get("data")
                if isinstance(data, bytes):
                    data = data.decode()
                if isinstance(data, str):
                    self._apply(data)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Without the subscription the cache would serve revoked tokens: bypass it until
            # we are listening again (the loop subscribes again after its backoff).
            log.warning("auth invalidation subscription lost; cache bypassed", exc_info=True)
        finally:
            self._subscribed = False
            try:
                await asyncio.wait_for(pubsub.aclose(), LISTEN_POLL_S)
            except Exception:  # closing a broken subscription may fail too; it is gone either way
                pass

    async def flush(self) -> None:
        used, self._used = self._used, {}
        if not used:
            return
        try:
            async with self._pool.acquire() as conn:
                await tokens_sql.touch(conn, used)
        except Exception:
            log.exception("last_used_at flush failed")
            for k, v in used.items():  # keep them for the next flush
                self._used.setdefault(k, v)
