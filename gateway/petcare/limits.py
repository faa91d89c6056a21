"""002's rate limits, as its document's table gives them, counted in Redis (gateway/kernel/throttle.py).

| category            | limit      | scope                  | where                                  |
|---------------------|------------|------------------------|----------------------------------------|
| authentication      | 10 / min   | IP (and account)       | sign-in handlers (gateway/kernel/auth/limits.py) |
| user registration   | 5 / hour   | IP                     | /user/create (same module)             |
| general API calls   | 1000 / hour| authenticated user     | here: every 002 request of a signed-in caller |
| photo uploads       | 50 / hour  | authenticated user     | here: the pet and food photo uploads   |
| search requests     | 200 / hour | authenticated user     | here: the food keyword search          |

Anonymous requests cost no general budget (they are refused with 401, or are the sign-in and
registration routes, which have their own per-IP limits). A throttled request is a 429 in 002's
envelope: `details {retry_after, limit, window}` (envelope.py words the window) with
`Retry-After` and `X-RateLimit-*`; allowed requests carry `X-RateLimit-*` of the tightest limit
they used. The figures are settings (THROTTLE_PETCARE_*), off with the /api throttles' switch.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from domain.settings import Settings
from gateway.kernel.auth.identity import identity_of
from gateway.kernel.contracts import Contract, contract_of
from gateway.kernel.keys import throttles_key
from gateway.kernel.throttle import Limit, verdict_key

HOUR_S = 3600

# (method, route pattern without PETCARE_PREFIX) -> category of the document's table
PHOTO_UPLOADS = frozenset({("POST", "/pets/{pet_id}/photo/upload"), ("POST", "/foods/{food_id}/photo")})
SEARCHES = frozenset({("GET", "/foods/info")})


def general_limit(s: Settings) -> Limit:
    return Limit("petcare-user", s.throttle_petcare_per_hour, HOUR_S)


def route_limits(s: Settings, prefix: str) -> dict[tuple[str, str], Limit]:
    photos = Limit("petcare-photos", s.throttle_petcare_photos_per_hour, HOUR_S)
    search = Limit("petcare-search", s.throttle_petcare_search_per_hour, HOUR_S)
    table = {(method, prefix + path): photos for method, path in PHOTO_UPLOADS}
    table.update({(method, prefix + path): search for method, path in SEARCHES})
    return table


def petcare_limits_middleware(s: Settings) -> Middleware:
    """On the root app after the gateway middleware (which has resolved the caller); every other
    contract passes through at the cost of one cached lookup."""
    general = general_limit(s)
    by_route = route_limits(s, s.petcare_prefix)

    @web.middleware
    async def petcare_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or contract_of(request) is not Contract.PETCARE:
            return await handler(request)
        identity = identity_of(request)
        throttles = request.config_dict.get(throttles_key)
        if not identity.authenticated or throttles is None:
            return await handler(request)
        caller = f"u{identity.user_id}"
        verdict = await throttles.enforce(request, general, caller)
        resource = request.match_info.route.resource
        extra = by_route.get((request.method, resource.canonical)) if resource is not None else None
        if extra is not None:
            narrower = await throttles.enforce(request, extra, caller)
            if narrower.remaining < verdict.remaining:
                verdict = narrower
        request[verdict_key] = verdict
        return await handler(request)

    return petcare_limits
