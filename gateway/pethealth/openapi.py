"""000's OpenAPI document: what it says about itself (the operations come from routes.py), and
the security requirements its handlers name in `@documented(auth=...)`."""

from __future__ import annotations

from gateway.kernel import api_envelope
from gateway.kernel.openapi import security
from gateway.kernel.openapi.builder import ContractSpec
from gateway.pethealth.error_schemas import PetHealthError

# What gateway/kernel/auth/middleware.py accepts on every /api route: a Bearer PAT or JWT, a
# browser session (state-changing requests echo the XSRF token), 003's `api_token` cookie (a PAT).
READ = ("pat", "jwt", "session", "api_token")
WRITE = ("pat", "jwt", "session+xsrf", "api_token")
# token management and the GPT confirm step: a browser session only (any token is a 403)
SESSION_READ = ("session",)
SESSION_WRITE = ("session+xsrf",)
# the GPT connector's own calls (exchange, revoke)
CONNECTOR = ("connector",)

CONNECTOR_KEY = {
    "type": "http",
    "scheme": "bearer",
    "description": "The GPT connector's API key (the server's GPT_CONNECTOR_API_KEY) as a Bearer token. "
    "A wrong key is a 401 `Unauthorized.`; no key configured on the server is a 503.",
}

SPEC = ContractSpec(
    key="pethealth",
    title="Roost pet health API (000)",
    version="1.0.0",
    description=(
        "Pets, pet types, weights, vaccinations, medical records and microchips, personal access "
        "tokens and the GPT bridge. Served at /api beside the accounts API (003), in one envelope "
        "that is the union of both documents'. Every route counts against the per-minute throttle "
        "and the daily quota (X-RateLimit-* on every answer, 429 with Retry-After past a limit; 503 "
        "when the quota service cannot be reached). On any route, a query parameter with a control "
        "character is a 422, and a browser session's state-changing request without its XSRF token "
        "is a 403."
    ),
    server="/api",
    envelope=api_envelope.envelope_schema,
    error_model=PetHealthError,
    security_schemes={
        "pat": security.PAT,
        "jwt": security.JWT,
        "session": security.SESSION,
        "xsrf": security.XSRF,
        "api_token": security.API_TOKEN,
        "connector": CONNECTOR_KEY,
    },
    # 422: the root middleware refuses a query with a control character on any route
    common_errors=(422, 429, 503),
    common_headers=api_envelope.RATE_LIMIT_HEADERS,
    throttle_headers=api_envelope.THROTTLE_HEADERS,
)
