"""Laravel's length-aware paginator, as 000's list endpoints render it.

`{data: [...], links: {first, last, prev, next}, meta: {current_page, from, last_page, per_page,
to, total, path}}`; links are absolute URLs carrying only `?page=N` (the reference does not append
other query parameters), built from the public app URL and the request path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from domain.inputs import parse_int

# 000's health lists: the reference's paginate(25)
PER_PAGE = 25
# Laravel reads the page with FILTER_VALIDATE_INT and falls back to 1; at most 12 digits, because
# a page past that is as good as "past the end" and its offset must not overflow the database.
_PAGE_DIGITS = 12


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page


def page_of(request: web.Request, per_page: int = PER_PAGE) -> Page:
    """`?page=` as Laravel reads it: a positive integer, else page 1."""
    number = parse_int(request.query.get("page", "").strip(), signed=True, max_digits=_PAGE_DIGITS)
    return Page(number if number is not None and number >= 1 else 1, per_page)


def paginated(request: web.Request, app_url: str, page: Page, items: list[Any], total: int) -> dict[str, Any]:
    path = app_url.rstrip("/") + request.path
    last_page = max((total + page.per_page - 1) // page.per_page, 1)

    def url(n: int) -> str:
        return f"{path}?page={n}"

    first_item = page.offset + 1 if items else None
    return {
        "data": items,
        "links": {
            "first": url(1),
            "last": url(last_page),
            "prev": url(page.number - 1) if page.number > 1 else None,
            "next": url(page.number + 1) if page.number < last_page else None,
        },
        "meta": {
            "current_page": page.number,
            "from": first_item,
            "last_page": last_page,
            "per_page": page.per_page,
            "to": page.offset + len(items) if items else None,
            "total": total,
            "path": path,
        },
    }
