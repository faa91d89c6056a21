"""001's `page` / `per_page` pagination (per_page at most 100; more is a 422, not a silent clamp),
rendered in the same Laravel paginator shape as the /api lists (gateway/api/pagination.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from domain.errors import Invalid
from gateway.api.pagination import Page, paginated

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


def _positive(request: web.Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        raise Invalid(fields={name: [f"The {name.replace('_', ' ')} must be a positive integer."]})
    value = int(raw)
    if maximum is not None and value > maximum:
        raise Invalid(fields={name: [f"The {name.replace('_', ' ')} may not be greater than {maximum}."]})
    return value


def page_of(request: web.Request) -> Page:
    return Page(_positive(request, "page", 1), _positive(request, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE))


def page_body(request: web.Request, app_url: str, page: Page, items: list[Any], total: int) -> dict[str, Any]:
    body = paginated(request, app_url, page, items, total)
    # keep per_page in the links, or following `next` would fall back to the default page size
    if page.per_page != DEFAULT_PER_PAGE:
        for name, link in body["links"].items():
            if link is not None:
                body["links"][name] = f"{link}&per_page={page.per_page}"
    return body
