"""What a tenant app's token may do. Login grants all of them; a narrower token can be minted."""

from __future__ import annotations

TENANT_READ = "tenant:read"
EVENTS_READ = "events:read"
EVENTS_WRITE = "events:write"
PHOTOS_READ = "photos:read"
PHOTOS_WRITE = "photos:write"
PHOTOS_MODERATE = "photos:moderate"
PHOTOS_EXPORT = "photos:export"
# theme, limits, logo and legal links (domain/tenant_settings.py); reading them is tenant:read
SETTINGS_WRITE = "settings:write"

TENANT_ABILITIES: tuple[str, ...] = (
    TENANT_READ,
    EVENTS_READ,
    EVENTS_WRITE,
    PHOTOS_READ,
    PHOTOS_WRITE,
    PHOTOS_MODERATE,
    PHOTOS_EXPORT,
    SETTINGS_WRITE,
)
