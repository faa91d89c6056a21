"""Which contract a request belongs to, and so which envelope its answer (or error) is in."""

from __future__ import annotations

import enum

from aiohttp import web

from gateway.kernel.keys import settings_key


class Contract(str, enum.Enum):
    API = "api"  # 000 + 003 at /api, the union envelope
    EVENTS = "events"  # 001 at /api/v1
    PETCARE = "petcare"  # 002 at the root (or PETCARE_PREFIX)
    OPS = "ops"  # /healthz, /readyz, /metrics
    WEB = "web"  # /login, /logout, /developer, /gpt-connect: browser pages of the /api documents


OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Browser pages and the session endpoints behind them belong to the /api documents (000's SPA
# signs in at /login), so their errors use the /api envelope even though they sit at the root.
WEB_PATHS = frozenset(
    {"/login", "/logout", "/developer", "/developer/sign-ins/revoke", "/developer/sign-out-everywhere", "/gpt-connect"}
)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def contract_for_path(path: str) -> Contract:
    # By path rather than by matched sub-app: unmatched URLs (404) and wrong methods (405) must
    # still be answered in the envelope their prefix promises.
    if _under(path, "/api/v1"):
        return Contract.EVENTS
    if _under(path, "/api"):
        return Contract.API
    if path in OPS_PATHS:
        return Contract.OPS
    if path in WEB_PATHS or _under(path, "/storage"):
        return Contract.WEB
    return Contract.PETCARE


request_contract_key = web.RequestKey("contract", Contract)


def contract_of(request: web.Request) -> Contract:
    cached = request.get(request_contract_key)
    if cached is None:
        cached = request[request_contract_key] = _contract_for_request(request)
    return cached


def _contract_for_request(request: web.Request) -> Contract:
    api_domain = request.config_dict[settings_key].api_domain
    if api_domain and request.host.split(":")[0].lower() == api_domain.split(":")[0].lower():
        # 003's subdomain: every path on that host is the /api contract (probes aside)
        return Contract.OPS if request.path in OPS_PATHS else Contract.API
    return contract_for_path(request.path)
