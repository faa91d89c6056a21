"""Password handling: the SHA-256 pre-hash, argon2id storage, and refusal of bad input."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from domain.errors import Invalid
from domain.passwords import MAX_PLAIN_PASSWORD, PasswordHashing, normalize_hex, prehash


@pytest.fixture(scope="module")
def hashing():
    h = PasswordHashing(time_cost=1, memory_kib=8192, max_concurrent=2)
    yield h
    h.close()


def test_prehash_is_lowercase_sha256_hex_of_utf8():
    assert prehash("pässword") == hashlib.sha256("pässword".encode()).hexdigest()
    assert prehash("x") == prehash("x").lower()


@pytest.mark.parametrize("bad", ["", None, "x" * (MAX_PLAIN_PASSWORD + 1), 12345])
def test_prehash_refuses_empty_overlong_and_non_strings(bad):
    with pytest.raises(Invalid) as info:
        prehash(bad)
    assert "password" in info.value.fields


def test_normalize_hex_lowercases_and_refuses_anything_else():
    upper = hashlib.sha256(b"a").hexdigest().upper()
    assert normalize_hex(upper) == upper.lower()
    for bad in ["", "abc", "g" * 64, "a" * 65, "a" * 10_000, None, 7]:
        with pytest.raises(Invalid) as info:
            normalize_hex(bad, "password_hash")
        assert list(info.value.fields) == ["password_hash"]


async def test_hash_is_argon2id_and_verifies(hashing):
    hexed = prehash("correct horse")
    stored = await hashing.hash(hexed)
    assert stored.startswith("$argon2id$")
    assert hexed not in stored
    assert await hashing.verify(stored, hexed)
    assert not await hashing.verify(stored, prehash("wrong horse"))


async def test_two_hashes_of_one_password_differ(hashing):
    hexed = prehash("same")
    assert await hashing.hash(hexed) != await hashing.hash(hexed)


async def test_missing_or_garbage_hash_never_verifies(hashing):
    hexed = prehash("anything")
    assert not await hashing.verify(None, hexed)
    assert not await hashing.verify("not-a-hash", hexed)


async def test_hashing_keeps_the_event_loop_free(hashing):
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(hashing.hash(prehash(str(i))) for i in range(6)))
    task.cancel()
    # with hashing on the loop the ticker could not run at all while six hashes are computed
    assert ticks > 5
