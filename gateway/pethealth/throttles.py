"""000's minute throttles on the /api sub-app, counted in Redis (gateway/kernel/throttle.py).

- `authenticated`: every authenticated /api request, per user (prod 60/min, elsewhere 300/min).
- `public-api`: public listing routes, per user when signed in, else per client IP (prod 30/min,
  elsewhere 300/min).
- per-route write limits: creating pets and health records, and API tokens, per user — a
  client stuck in a retry loop must not fill a pet's history in a minute. 000 names no figures;
  ours are below (production values; other environments get five times as many, as 000 does for
  its groups: 60 -> 300).

OPTIONS is never counted. The daily quota (gateway/pethealth/quota.py) runs in the same middleware.
A throttled request is a 429 in the /api envelope with `Retry-After` and `X-RateLimit-*`; it is
rejected before the daily quota looks at it, so it costs no quota.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from domain.settings import Settings
from gateway.kernel.auth.identity import SignedIn, identity_of
from gateway.kernel.client_address import client_ip
from gateway.kernel.keys import throttles_key
from gateway.kernel.throttle import Limit
from gateway.pethealth.quota import quota_key_app

# (method, route pattern relative to the /api mount)
PUBLIC_LISTINGS: frozenset[tuple[str, str]] = frozenset({("GET", "/pet-types")})

# (method, route pattern) -> (limit name, requests per user per minute in production)
WRITE_LIMITS: dict[tuple[str, str], tuple[str, int]] = {
    ("POST", "/pets"): ("api-pets-create", 30),
    ("POST", "/pets/{pet}/weights"): ("api-weights-create", 30),
    ("POST", "/pets/{pet}/medical-records"): ("api-medical-create", 30),
    ("POST", "/pets/{pet}/vaccinations"): ("api-vaccinations-create", 30),
    ("POST", "/pets/{pet}/vaccinations/{record}/renew"): ("api-vaccinations-renew", 30),
    ("POST", "/pets/{pet}/microchips"): ("api-microchips-create", 30),
    ("POST", "/user/api-tokens"): ("api-tokens-create", 10),
}

# 000: "prod 60/min, dev/test/e2e 300/min" — the same factor for our write limits
NON_PRODUCTION_FACTOR = 5


def _production(s: Settings) -> bool:
    return s.app_env == "production"


def authenticated_limit(s: Settings) -> Limit:
    per_minute = s.throttle_api_per_minute or (60 if _production(s) else 300)
    return Limit("api-authenticated", per_minute, 60)


def public_limit(s: Settings) -> Limit:
    per_minute = s.throttle_public_api_per_minute or (30 if _production(s) else 300)
    return Limit("api-public", per_minute, 60)


def write_limit(s: Settings, method: str, pattern: str) -> Limit | None:
    entry = WRITE_LIMITS.get((method, pattern))
    if entry is None:
        return None
    name, per_minute = entry
    return Limit(name, per_minute if _production(s) else per_minute * NON_PRODUCTION_FACTOR, 60)


def relative_pattern(request: web.Request) -> str | None:
    """The matched route's pattern without the /api mount (the API_DOMAIN app has no mount)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    canonical = resource.canonical
    return canonical[4:] if canonical.startswith("/api/") else canonical


def _route_limits(s: Settings, method: str, pattern: str | None, authenticated: bool) -> tuple[Limit, ...]:
    """The per-route limits (beyond `authenticated`) of one route for one kind of caller."""
    if pattern is None:
        return ()
    limits: list[Limit] = []
    if (method, pattern) in PUBLIC_LISTINGS:
        limits.append(public_limit(s))
    write = write_limit(s, method, pattern) if authenticated else None
    if write is not None:
        limits.append(write)
    return tuple(limits)


def usage_limits_middleware(s: Settings) -> Middleware:
    """Minute throttles, then the daily quota, in one middleware (each layer costs every request).

    A throttled request is rejected before the quota looks at it, so it costs no quota. Everything
    that depends only on the settings and the matched route is worked out once, not per request.
    """
    throttles_on, quota_on = s.api_throttles_enabled, s.api_quota_enabled
    authenticated = authenticated_limit(s)
    per_route: dict[tuple[str, object, bool], tuple[Limit, ...]] = {}

    @web.middleware
    async def usage_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return await handler(request)
        identity = identity_of(request)
        signed_in = identity.authenticated
        if throttles_on:
            throttles = request.config_dict.get(throttles_key)
            if throttles is not None:
                caller = f"u{identity.user_id}" if signed_in else f"ip{client_ip(request)}"
                if signed_in:
                    await throttles.enforce(request, authenticated, caller)
                resource = request.match_info.route.resource
                route_key = (request.method, resource, signed_in)
                limits = per_route.get(route_key)
                if limits is None:
                    limits = _route_limits(s, request.method, relative_pattern(request), signed_in)
                    per_route[route_key] = limits
                for limit in limits:
                    await throttles.enforce(request, limit, caller)
        quota_headers = None
        if quota_on and isinstance(identity, SignedIn) and not identity.is_premium:
            quota = request.config_dict.get(quota_key_app)
            if quota is not None:
                quota_headers = await quota.take(identity.user_id)
        response = await handler(request)
        if quota_headers is not None and not response.prepared:
            # beyond both documents: how close the caller is to the daily quota (README)
            response.headers.update(quota_headers)
        return response

    return usage_limits
