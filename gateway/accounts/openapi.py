"""003's OpenAPI document: what it says about itself (the operations come from routes.py)."""

from __future__ import annotations

from gateway.accounts.schemas import AccountsError
from gateway.kernel import api_envelope
from gateway.kernel.openapi import security
from gateway.kernel.openapi.builder import ContractSpec

# How a signed-in caller may call 003 (gateway/kernel/auth/middleware.py): a JWT or a personal access
# token as Bearer, a browser session (state-changing requests also echo the XSRF header), or the
# `api_token` cookie the OAuth callbacks set. Any one suffices.
READ_AUTH = ("jwt", "pat", "session", "api_token")
WRITE_AUTH = ("jwt", "pat", "session+xsrf", "api_token")
# 403 on every state-changing request: a session cookie sent without its XSRF header ("CSRF token
# mismatch"), public routes included; on signed-in ones also a token without `profile:write`.
WRITE_ERRORS = (403,)

SPEC = ContractSpec(
    key="accounts",
    title="Roost accounts API (003)",
    version="1.0.0",
    description=(
        "Registration, login (password, Google, GitHub), email verification, password reset, the "
        "profile and avatar. Served at /api beside the pet health API (000), in one envelope that is "
        "the union of both documents', under the same per-minute throttle and daily quota (X-RateLimit-* on "
        "every answer, 429 with Retry-After past a limit, 503 when the quota service cannot be reached). "
        "A browser session's state-changing request without its XSRF token is a 403 on any route."
    ),
    server="/api",
    envelope=api_envelope.envelope_schema,
    error_model=AccountsError,
    security_schemes={
        "jwt": security.JWT,
        "pat": security.PAT,
        "session": security.SESSION,
        "xsrf": security.XSRF,
        "api_token": security.API_TOKEN,
    },
    # 429: the mount's throttle and daily quota, 503: the quota service out of reach; 422: a query
    # string with a control character, which the root middleware refuses on every route before
    # any handler (gateway/kernel/validation.py)
    common_errors=(422, 429, 503),
    common_headers=api_envelope.RATE_LIMIT_HEADERS,
    throttle_headers=api_envelope.THROTTLE_HEADERS,
)
