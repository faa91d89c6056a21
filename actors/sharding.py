"""Which shard owns an entity: a stable hash of its key, the same in every process and release."""

from __future__ import annotations

import hashlib


def shard_of(key: str, shards: int) -> int:
    # Python's hash() is salted per process; every gateway must agree on the owner, so a real digest.
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def actor_name(kind: str, shard: int) -> str:
    return f"{kind}-shard-{shard}"
