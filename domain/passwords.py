"""Passwords: stored once, as argon2id of the lowercase SHA-256 hex of the password.

003 clients send that hex themselves (`password_hash`); 002 clients and browser forms send the
plain password, which `prehash` turns into the same hex first. Either way one stored hash serves
every contract. Hashing is slow on purpose, so it runs in a thread with a cap on how many run at
once: a burst of logins queues instead of starving the event loop and the machine's memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import Invalid

SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
# Plain passwords longer than this are refused (422), not hashed: no one types more, and an
# unbounded input is a cheap way to make the server do expensive work.
MAX_PLAIN_PASSWORD = 1024


def prehash(plain: str) -> str:
    """The lowercase SHA-256 hex of a plain password, the form 003 clients send."""
    if not isinstance(plain, str) or not plain:
        raise Invalid(fields={"password": ["The password field is required."]})
    if len(plain) > MAX_PLAIN_PASSWORD:
        raise Invalid(fields={"password": [f"The password may not be greater than {MAX_PLAIN_PASSWORD} characters."]})
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def normalize_hex(value: object, field: str = "password_hash") -> str:
    """A client-sent SHA-256 hex, lowercased; 422 on anything else (too long, not hex, empty)."""
    if not isinstance(value, str) or not SHA256_HEX.match(value):
        raise Invalid(fields={field: [f"The {field} must be a 64-character SHA-256 hex string."]})
    return value.lower()


class PasswordHashing:
    def __init__(self, *, time_cost: int = 2, memory_kib: int = 19456, max_concurrent: int = 2) -> None:
        # OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane) by default.
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._executor = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="argon2")
        self._slots = asyncio.Semaphore(max_concurrent)
        # Verifying against this keeps "no such user" as slow as "wrong password".
        self._dummy = self._hasher.hash("0" * 64)

    async def hash(self, sha256_hex: str) -> str:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._hasher.hash, sha256_hex)

    async def verify(self, stored: str | None, sha256_hex: str) -> bool:
        """True when `sha256_hex` matches; a missing hash costs the same time and is False."""
        target = stored or self._dummy

        def check() -> bool:
            try:
                return self._hasher.verify(target, sha256_hex)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        async with self._slots:
            ok = await asyncio.get_running_loop().run_in_executor(self._executor, check)
        return ok and stored is not None

    def close(self) -> None:
        self._executor.shutdown(wait=False)
