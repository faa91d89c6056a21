"""001's `page` / `per_page` pagination (per_page at most 100; more is a 422, not a silent clamp),
rendered in the same Laravel paginator shape as the /api lists (gateway/kernel/pagination.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.kernel.pagination import Page, paginated
from gateway.kernel.validation import query_int

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


# a page past any real list, but small enough that (page - 1) * per_page stays far inside a bigint
MAX_PAGE = 10**9


class PageQuery(BaseModel):
    """`?page=&per_page=` (documentation: page_of parses them)."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    per_page: int = Field(default=DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE, description="At most 100 (more is a 422).")


def page_of(request: web.Request) -> Page:
    return Page(
        query_int(request, "page", 1, maximum=MAX_PAGE),
        query_int(request, "per_page", DEFAULT_PER_PAGE, maximum=MAX_PER_PAGE),
    )


def page_body(request: web.Request, app_url: str, page: Page, items: list[Any], total: int) -> dict[str, Any]:
    body = paginated(request, app_url, page, items, total)
    # keep per_page in the links, or following `next` would fall back to the default page size
    if page.per_page != DEFAULT_PER_PAGE:
        for name, link in body["links"].items():
            if link is not None:
                body["links"][name] = f"{link}&per_page={page.per_page}"
    return body
