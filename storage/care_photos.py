"""002's pet photo columns (pets.photo_path from 0005, its type and time from 0012). The food
photo columns are storage/foods.py's; the rules are domain/care_photos.py's."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def set_pet_photo(
    conn: asyncpg.Connection, pet_id: int, key: str | None, content_type: str | None, now: datetime
) -> bool:
    """Point the pet at a stored photo (or at none); False when it is missing or deleted."""
    status = await conn.execute(
        """
        update pets set photo_path = $2, photo_content_type = $3, photo_updated_at = $4, updated_at = $4
        where id = $1 and status <> 'deleted'
        """,
        pet_id,
        key,
        content_type,
        now,
    )
    return status == "UPDATE 1"
