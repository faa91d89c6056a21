"""Numbered `.sql` migrations applied in order, once, under an advisory lock.

A file's SHA-256 is recorded when it is applied; a later run that finds the file changed (or
gone) refuses to go on, because the database no longer matches what the code believes it ran.

Numbers only ever grow and are never reused or renumbered: a deployed database records the names
it ran. 0006 is a gap for that reason: it was written in a session whose work never landed, after
0007 had been numbered, and renumbering 0007 onwards would make every database migrated since
refuse to start. A gap is harmless; versions are applied in order, whatever their spacing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any fixed 64-bit number; every process migrating the same database must use the same one.
ADVISORY_LOCK_KEY = 0x726F6F7374  # "roost"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_case.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, path.name, path.read_text())
    return [found[v] for v in sorted(found)]


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is pending; returns the names applied. Safe to run from many processes at once."""
    migrations = discover(directory)
    await conn.execute("select pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(
            """
            create table if not exists schema_migrations (
                version integer primary key,
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now()
            )
            """
        )
        applied = {
            r["version"]: r for r in await conn.fetch("select version, name, checksum from schema_migrations")
        }
        on_disk = {m.version for m in migrations}
        for version, row in applied.items():
            if version not in on_disk:
                raise MigrationError(f"applied migration {row['name']} is missing from {directory}")
        done: list[str] = []
        for m in migrations:
            row = applied.get(m.version)
            if row is not None:
                if row["checksum"] != m.checksum:
                    raise MigrationError(
                        f"{m.name} changed after it was applied (recorded {row['checksum'][:12]}, "
                        f"file {m.checksum[:12]}); add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "insert into schema_migrations (version, name, checksum) values ($1, $2, $3)",
                    m.version,
                    m.name,
                    m.checksum,
                )
            done.append(m.name)
        return done
    finally:
        await conn.execute("select pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
