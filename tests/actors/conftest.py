from __future__ import annotations

import uuid

import pytest

from actors.client import ShardClient


@pytest.fixture
def keyspace() -> str:
    """A prefix no other test uses: shard actors (and their rows) live for the whole session."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def counters(settings, ray_session):
    client = ShardClient(
        "counters",
        shards=settings.roost_shards,
        dsn=settings.database_url,
        namespace=settings.roost_ray_namespace,
        max_batch=256,
        max_wait_s=0.002,
    )
    await client.start()
    yield client
    await client.close()


def keys_on_shard(client: ShardClient, shard: int, prefix: str, n: int) -> list[str]:
    keys, i = [], 0
    while len(keys) < n:
        key = f"{prefix}:{i}"
        if client.shard_for(key) == shard:
            keys.append(key)
        i += 1
    return keys
