"""Every /api/v1 route, area by area; each area module owns its paths."""

from __future__ import annotations

from aiohttp import web

from gateway.events import polling
from gateway.events import tenant_auth
from gateway.events import tenants_admin
from gateway.events import tenant_events
from gateway.events import tasks
from gateway.events import guest_events
from gateway.events import photos
from gateway.events import uploads
from gateway.events import gallery
from gateway.events import archive
from gateway.events import tenant_media

# The guest polls (gateway/events/polling.py) are not here: they are most of all traffic, so they
# are mounted on the root app under the same /api/v1 paths (see setup_fast_routes).
AREAS = (tenant_auth, tenants_admin, tenant_events, tasks, guest_events, photos, uploads, gallery, archive, tenant_media,)


def setup_fast_routes(root: web.Application, prefix: str) -> None:
    """The guest polls on the root app, before the /api/v1 sub-app is added: aiohttp wraps every
    handler of a sub-app in one more middleware layer of its own, a cost the polls cannot afford.
    Their answers are the same (the envelope follows the path), and they use only root-app keys."""
    polling.setup_routes(root.router, prefix)


def setup_routes(app: web.Application) -> None:
    for area in AREAS:
        area.setup_routes(app.router)
