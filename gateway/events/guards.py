"""Who may call a tenant route, and on which tenant's behalf.

Every tenant route starts with `caller = await require_tenant(request, ability)`: the caller must
be signed in with a token holding `ability` (or `*`) and administer a tenant; every query the
handler then runs is scoped to `caller.tenant_id`, which is how tenant A never reaches tenant B's
rows (another tenant's event or photo id is a 404, as if it did not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from domain.errors import Forbidden
from gateway.kernel.auth.guards import require_abilities, require_user
from gateway.kernel.auth.identity import SignedIn
from gateway.kernel.keys import pool_key, settings_key, throttles_key
from gateway.kernel.throttle import Limit

TenantRole = Literal["owner", "admin"]  # tenant_users.role


@dataclass(frozen=True, slots=True)
class TenantCaller:
    user_id: int
    tenant_id: int
    role: TenantRole
    identity: SignedIn


async def require_tenant(request: web.Request, *abilities: str) -> TenantCaller:
    """Also counts the request against the tenant's per-minute budget (429 with x-rate-limit-*)."""
    identity = require_abilities(request, *abilities) if abilities else require_user(request)
    async with request.config_dict[pool_key].acquire() as conn:
        row = await conn.fetchrow("select tenant_id, role from tenant_users where user_id = $1", identity.user_id)
    if row is None:
        raise Forbidden("This account does not administer a tenant.", code="not_a_tenant_admin")
    config = request.config_dict
    limit = Limit("event-tenant-api", config[settings_key].event_tenant_api_per_minute, 60)
    await config[throttles_key].enforce(request, limit, str(row["tenant_id"]))
    return TenantCaller(user_id=identity.user_id, tenant_id=row["tenant_id"], role=row["role"], identity=identity)


def require_super_admin(request: web.Request) -> SignedIn:
    """001's super admins are the site administrators (users.is_admin)."""
    identity = require_abilities(request, "*", "tenants:read")
    if not identity.is_admin:
        raise Forbidden("Only super admins may do this.", code="super_admin_required")
    return identity
