"""001 super-admin reads: GET /tenants (paginated) and GET /tenants/{tenant}.

Super admins are the site administrators (users.is_admin). The document allows only list and
read here; tenants are created by an operator with `roost tenants create`.
"""

from __future__ import annotations

from aiohttp import web

from domain.errors import NotFound
from gateway.events.common_schemas import Item, Page, dump_all
from gateway.events.envelope import success
from gateway.events.guards import require_super_admin
from gateway.events.openapi import TENANT_READ
from gateway.events.pagination import PageQuery, page_body, page_of
from gateway.events.tenant_schemas import AdminTenantPublic
from gateway.kernel.keys import pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import path_id
from storage import tenants as tenants_sql


@documented(
    "List tenants (super admins)", response=Page[AdminTenantPublic], query=PageQuery, auth=TENANT_READ, errors=(403,)
)
async def list_tenants(request: web.Request) -> web.Response:
    """GET /tenants?page=&per_page= → {data, links, meta}, newest first."""
    require_super_admin(request)
    page = page_of(request)
    async with request.config_dict[pool_key].acquire() as conn:
        rows, total = await tenants_sql.list_page(conn, limit=page.per_page, offset=page.offset)
    items = dump_all(AdminTenantPublic.from_row(r) for r in rows)
    return success(page_body(request, request.config_dict[settings_key].app_url, page, items, total))


@documented(
    "Show a tenant (super admins)",
    response=Item[AdminTenantPublic],
    auth=TENANT_READ,
    errors=(403, 404),
    path_params={"tenant": "The tenant's id."},
)
async def read_tenant(request: web.Request) -> web.Response:
    """GET /tenants/{tenant} → {data}; an unknown id is 404."""
    require_super_admin(request)
    tenant_id = path_id(request, "tenant")
    async with request.config_dict[pool_key].acquire() as conn:
        row = await tenants_sql.get(conn, tenant_id)
    if row is None:
        raise NotFound()
    return success(Item(data=AdminTenantPublic.from_row(row)))
