"""Every /api/v1 route, area by area; each area module owns its paths."""

from __future__ import annotations

from aiohttp import web

from gateway.events import tenant_auth
from gateway.events import tenants_admin
from gateway.events import tenant_events
from gateway.events import tasks
from gateway.events import guest_events
from gateway.events import photos
from gateway.events import uploads
from gateway.events import polling
from gateway.events import gallery
from gateway.events import archive

# polling first: resources sharing a prefix (/events/{token}...) are tried in registration order,
# and the guest polls are most of all traffic
AREAS = (polling, tenant_auth, tenants_admin, tenant_events, tasks, guest_events, photos, uploads, gallery, archive,)


def setup_routes(app: web.Application) -> None:
    for area in AREAS:
        area.setup_routes(app.router)
