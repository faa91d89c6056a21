"""001 super-admin reads: GET /tenants (paginated) and GET /tenants/{tenant}.

Super admins are the site administrators (users.is_admin). The document allows only list and
read here; tenants are created by an operator with `roost tenants create`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from domain.errors import NotFound
from gateway.events.envelope import success
from gateway.events.guards import require_super_admin
from gateway.events.pagination import page_body, page_of
from gateway.events.tenant_auth import tenant_view
from gateway.kernel.keys import pool_key, settings_key
from gateway.kernel.timeutil import iso_z
from gateway.kernel.validation import path_id
from storage import tenants as tenants_sql


def admin_tenant_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **tenant_view(row),
        "events_count": row["events_count"],
        "admins_count": row["admins_count"],
        "created_at": iso_z(row["created_at"]),
        "updated_at": iso_z(row["updated_at"]),
    }


async def list_tenants(request: web.Request) -> web.Response:
    """GET /tenants?page=&per_page= → {data, links, meta}, newest first."""
    require_super_admin(request)
    page = page_of(request)
    async with request.config_dict[pool_key].acquire() as conn:
        rows, total = await tenants_sql.list_page(conn, limit=page.per_page, offset=page.offset)
    items = [admin_tenant_view(r) for r in rows]
    return success(page_body(request, request.config_dict[settings_key].app_url, page, items, total))


async def read_tenant(request: web.Request) -> web.Response:
    """GET /tenants/{tenant} → {data}; an unknown id is 404."""
    require_super_admin(request)
    tenant_id = path_id(request, "tenant")
    async with request.config_dict[pool_key].acquire() as conn:
        row = await tenants_sql.get(conn, tenant_id)
    if row is None:
        raise NotFound()
    return success({"data": admin_tenant_view(row)})
