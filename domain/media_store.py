"""Where photo bytes live, behind one small interface so that an S3-compatible store can replace
the local folder without touching its callers.

Keys are relative paths of `[a-z0-9_.-]` segments separated by `/`; the store never resolves a key
outside its root. Writes are atomic: bytes go to a dotted temporary name and are renamed into place,
so a reader never sees half a file (and /storage never serves dotfiles).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

_KEY = re.compile(r"^[a-z0-9_][a-z0-9_.-]*(/[a-z0-9_][a-z0-9_.-]*)*$")
CHUNK = 256 * 1024


class TooLarge(Exception):
    """A streamed write went past its byte limit; nothing was kept."""


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not _KEY.fullmatch(key) or ".." in key:
            raise ValueError(f"bad media key {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write_all, self.path(key), data)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int) -> int:
        """Store the chunks; past `max_bytes` stop, keep nothing and raise TooLarge."""
        target = self.path(key)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        size = 0
        fh = await asyncio.to_thread(open, tmp, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge()
                await asyncio.to_thread(fh.write, chunk)
            await asyncio.to_thread(fh.close)
            await asyncio.to_thread(os.replace, tmp, target)
            return size
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def chunks(self, key: str, chunk_size: int = CHUNK) -> AsyncGenerator[bytes, None]:
        """The stored bytes in chunks; FileNotFoundError when the key is gone."""
        fh = await asyncio.to_thread(open, self.path(key), "rb")
        try:
            while True:
                chunk = await asyncio.to_thread(fh.read, chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            fh.close()

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self.path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, True)

    async def delete_prefix(self, prefix: str) -> None:
        """Remove a whole folder of keys (an event's photos)."""
        import shutil

        await asyncio.to_thread(shutil.rmtree, self.path(prefix), True)

    @staticmethod
    def _write_all(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        tmp.write_bytes(data)
        os.replace(tmp, target)


def event_media_store(media_dir: Path) -> LocalMediaStore:
    """The store for event photos: `<media_dir>/events/<event_id>/...` (ROOST_DATA_DIR/media)."""
    return LocalMediaStore(Path(media_dir) / "events")
