"""001 purchases: the catalogue and purchase intents (/tenant/products, /tenant/purchases...).

Checks, in order: the token and its ability (401/403), the tenant's per-minute budget (429), the
purchase (another tenant's id is a 404, as if it did not exist), then the body and the
Idempotency-Key (422). Reading needs `tenant:read`; so does creating an intent, which moves no
money by itself (the store takes it, from the buyer's own store account, and its webhook says so).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from domain import purchases as rules
from domain.errors import Invalid
from domain.tenant_abilities import TENANT_READ as TENANT_READ_ABILITY
from gateway.events.commerce_models import ProductPublic, PurchaseCreate, PurchaseListQuery, PurchasePublic
from gateway.events.common_schemas import Item, Items, Page, dump_all
from gateway.events.envelope import success
from gateway.events.guards import require_tenant
from gateway.events.openapi import RATE_LIMITED, TENANT_READ, TENANT_WRITE
from gateway.events.pagination import page_body, page_of
from gateway.kernel.keys import clock_key, pool_key, settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import path_id, read_body, validate
from storage import purchases as purchases_sql

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_TENANT_ERRORS = (403, 429)
PURCHASE = {"purchase": "The purchase's id (another tenant's purchase is a 404, as if it did not exist)."}


def _now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[clock_key].time(), UTC)


@documented(
    "List what a tenant can buy",
    response=Items[ProductPublic],
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def list_products(request: web.Request) -> web.Response:
    await require_tenant(request, TENANT_READ_ABILITY)
    async with request.config_dict[pool_key].acquire() as conn:
        rows = await purchases_sql.list_products(conn)
    return success(Items(data=[ProductPublic.from_row(r) for r in rows]))


@documented(
    "Create a purchase intent",
    description=(
        "Idempotent by `Idempotency-Key`: the same key with the same body answers the same intent "
        f"(200, `{REPLAYED_HEADER}: true`); the same key with another body is 422 `idempotency_key_reused`. "
        "Without a key every request makes a new intent."
    ),
    response=Item[PurchasePublic],
    status=201,
    also={200: Item[PurchasePublic]},
    body=PurchaseCreate,
    auth=TENANT_WRITE,
    errors=_TENANT_ERRORS,
    headers_in={IDEMPOTENCY_HEADER: "1 to 255 printable ASCII characters; scoped to the tenant."},
    headers_out={**RATE_LIMITED, REPLAYED_HEADER: "`true` when the answer is an earlier request's intent."},
)
async def create_purchase(request: web.Request) -> web.Response:
    """POST /tenant/purchases {product_id} (Idempotency-Key optional)."""
    caller = await require_tenant(request, TENANT_READ_ABILITY)
    key = rules.check_idempotency_key(request.headers.get(IDEMPOTENCY_HEADER))
    raw = await read_body(request)
    body = validate(PurchaseCreate, raw)
    intent = await rules.create_intent(
        request.config_dict[pool_key],
        tenant_id=caller.tenant_id,
        user_id=caller.user_id,
        product_id=body.product_id,
        idempotency_key=key,
        body=raw,
        now=_now(request),
    )
    data = Item(data=PurchasePublic.from_row(intent.purchase))
    if intent.created:
        return success(data, status=201)
    return success(data, status=200, headers={REPLAYED_HEADER: "true"})


def _status(request: web.Request) -> str | None:
    raw = request.query.get("status") or None
    if raw is not None and raw not in rules.STATUSES:
        raise Invalid(fields={"status": ["The selected status is invalid."]})
    return raw


@documented(
    "List the tenant's purchases",
    response=Page[PurchasePublic],
    query=PurchaseListQuery,
    auth=TENANT_READ,
    errors=_TENANT_ERRORS,
    headers_out=RATE_LIMITED,
)
async def list_purchases(request: web.Request) -> web.Response:
    """GET /tenant/purchases?page=&per_page=&status=: newest first."""
    caller = await require_tenant(request, TENANT_READ_ABILITY)
    page, status = page_of(request), _status(request)
    rows, total = await rules.purchases_page(
        request.config_dict[pool_key],
        caller.tenant_id,
        status=status,
        limit=page.per_page,
        offset=page.offset,
        now=_now(request),
    )
    items = dump_all(PurchasePublic.from_row(r) for r in rows)
    return success(page_body(request, request.config_dict[settings_key].app_url, page, items, total))


@documented(
    "Show a purchase",
    response=Item[PurchasePublic],
    auth=TENANT_READ,
    errors=(*_TENANT_ERRORS, 404),
    path_params=PURCHASE,
    headers_out=RATE_LIMITED,
)
async def show_purchase(request: web.Request) -> web.Response:
    caller = await require_tenant(request, TENANT_READ_ABILITY)
    purchase_id = path_id(request, "purchase")
    row = await rules.purchase_for_tenant(request.config_dict[pool_key], caller.tenant_id, purchase_id, _now(request))
    return success(Item(data=PurchasePublic.from_row(row)))
