"""003's OpenAPI document: what it says about itself (the operations come from routes.py)."""

from __future__ import annotations

from gateway.kernel import api_envelope
from gateway.kernel.openapi import security
from gateway.kernel.openapi.builder import ContractSpec

SPEC = ContractSpec(
    key="accounts",
    title="Roost accounts API (003)",
    version="1.0.0",
    description=(
        "Registration, login (password, Google, GitHub), email verification, password reset, the "
        "profile and avatar. Served at /api beside the pet health API (000), in one envelope that is "
        "the union of both documents', under the same per-minute throttle and daily quota."
    ),
    server="/api",
    envelope=api_envelope.envelope_schema,
    error_model=api_envelope.ApiError,
    security_schemes={
        "jwt": security.JWT,
        "pat": security.PAT,
        "session": security.SESSION,
        "xsrf": security.XSRF,
        "api_token": security.API_TOKEN,
    },
    common_errors=(429,),
    common_headers=api_envelope.RATE_LIMIT_HEADERS,
    throttle_headers=api_envelope.THROTTLE_HEADERS,
)
