"""001 ledger: GET /tenant/ledger (the caller's tenant) and GET /tenants/{tenant}/ledger (super
admins, who read every tenant as they do at /tenants/{tenant}).

Paginated (`page`/`per_page`), newest first (the order entries were written in), filtered by
`type` (one or several, comma-separated) and by `from`/`to` on when the entry happened. The
answer carries the balance the entries add up to, read in the same snapshot as the page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from aiohttp import web

from domain.errors import Invalid, NotFound
from domain.ledger import ENTRY_TYPES
from domain.tenant_abilities import TENANT_READ as TENANT_READ_ABILITY
from gateway.events.commerce_models import LedgerBalance, LedgerEntryPublic, LedgerPage, LedgerQuery
from gateway.events.common_schemas import dump, dump_all
from gateway.events.envelope import success
from gateway.events.guards import require_super_admin, require_tenant
from gateway.events.openapi import RATE_LIMITED, TENANT_READ
from gateway.events.pagination import page_body, page_of
from gateway.kernel.keys import pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import path_id
from storage import ledger as ledger_sql

_DATE_MESSAGE = "The {name} must be an ISO 8601 date or date-time."


def _types(request: web.Request) -> list[str] | None:
    raw = request.query.get("type")
    if raw is None or raw == "":
        return None
    types = [t.strip() for t in raw.split(",")]
    if not all(t in ENTRY_TYPES for t in types) or len(types) > len(ENTRY_TYPES):
        raise Invalid(fields={"type": ["The selected type is invalid."]})
    return types


def _moment(request: web.Request, name: str, *, end_of_day: bool) -> datetime | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            # `to=2026-12-01` means through that day: up to the next day's midnight
            return datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise Invalid(fields={name: [_DATE_MESSAGE.format(name=name)]}) from None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise Invalid(fields={name: [_DATE_MESSAGE.format(name=name)]}) from None
    # a date-time `to` is inclusive: the bound the query uses is exclusive
    return moment + timedelta(microseconds=1) if end_of_day else moment


async def _ledger(request: web.Request, tenant_id: int) -> web.Response:
    page, types = page_of(request), _types(request)
    since = _moment(request, "from", end_of_day=False)
    until = _moment(request, "to", end_of_day=True)
    if since is not None and until is not None and until <= since:
        raise Invalid(fields={"to": ["The to must be a date after from."]})
    async with request.config_dict[pool_key].acquire() as conn, conn.transaction(isolation="repeatable_read"):
        rows, total = await ledger_sql.list_page(
            conn, tenant_id, types=types, since=since, until=until, limit=page.per_page, offset=page.offset
        )
        balance = await ledger_sql.balance(conn, tenant_id)
    if balance is None:
        raise NotFound()
    items = dump_all(LedgerEntryPublic.from_row(r) for r in rows)
    body = page_body(request, request.config_dict[settings_key].app_url, page, items, total)
    body["balance"] = dump(
        LedgerBalance(
            credits=balance["credits"], package=balance["package_slug"], last_entry_id=balance["last_entry_id"]
        )
    )
    return success(body)


@documented(
    "List the tenant's ledger",
    response=LedgerPage,
    query=LedgerQuery,
    auth=TENANT_READ,
    errors=(403, 429),
    headers_out=RATE_LIMITED,
)
async def tenant_ledger(request: web.Request) -> web.Response:
    """GET /tenant/ledger?page=&per_page=&type=&from=&to=."""
    caller = await require_tenant(request, TENANT_READ_ABILITY)
    return await _ledger(request, caller.tenant_id)


@documented(
    "List a tenant's ledger (super admins)",
    response=LedgerPage,
    query=LedgerQuery,
    auth=TENANT_READ,
    errors=(403, 404),
    path_params={"tenant": "The tenant's id."},
)
async def admin_ledger(request: web.Request) -> web.Response:
    """GET /tenants/{tenant}/ledger: as /tenant/ledger, for any tenant."""
    require_super_admin(request)
    return await _ledger(request, path_id(request, "tenant"))
