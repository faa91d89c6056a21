"""000's OpenAPI document: what it says about itself (the operations come from routes.py)."""

from __future__ import annotations

from gateway.kernel import api_envelope
from gateway.kernel.openapi import security
from gateway.kernel.openapi.builder import ContractSpec

SPEC = ContractSpec(
    key="pethealth",
    title="Roost pet health API (000)",
    version="1.0.0",
    description=(
        "Pets, pet types, weights, vaccinations, medical records and microchips, personal access "
        "tokens and the GPT bridge. Served at /api beside the accounts API (003), in one envelope "
        "that is the union of both documents'. Every route counts against the per-minute throttle "
        "and the daily quota (X-RateLimit-* on every answer, 429 with Retry-After past a limit)."
    ),
    server="/api",
    envelope=api_envelope.envelope_schema,
    error_model=api_envelope.ApiError,
    security_schemes={
        "pat": security.PAT,
        "jwt": security.JWT,
        "session": security.SESSION,
        "xsrf": security.XSRF,
    },
    common_errors=(429,),
    common_headers=api_envelope.RATE_LIMIT_HEADERS,
    throttle_headers=api_envelope.THROTTLE_HEADERS,
)
