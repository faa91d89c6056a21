"""The gateway's outermost middleware: request ids, metrics, and every failure in its contract's envelope."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from domain.errors import MethodNotAllowed, RoostError, from_http_status
from gateway.errors_render import render_error
from gateway.auth.identity import ANONYMOUS, identity_key
from gateway.auth.middleware import resolve as resolve_identity
from gateway.keys import metrics_key, request_id_key
from gateway.throttle import add_ratelimit_headers, verdict_key

log = logging.getLogger("roost.gateway")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and plain: it ends up in logs and headers.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _render(request: web.Request, exc: BaseException) -> web.StreamResponse:
    """An escaped exception as its contract's error answer; redirects and 304s re-raise."""
    if isinstance(exc, RoostError):
        if exc.status >= 500:
            log.error("request failed", extra={"code": exc.code, "request_id": request.get(request_id_key)})
        return render_error(request, exc)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:  # redirects and 304s are answers, not errors
            raise exc
        err = from_http_status(exc.status, exc.reason)
        if isinstance(err, MethodNotAllowed) and isinstance(exc, web.HTTPMethodNotAllowed):
            err.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
        return render_error(request, err)
    log.exception("unhandled error", extra={"request_id": request.get(request_id_key)}, exc_info=exc)
    return render_error(request, RoostError())


@web.middleware
async def gateway_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, metrics, authentication and the error envelope in one layer (each layer costs
    every request, and the guest polls that dominate traffic are answered in tens of microseconds).

    Every response carries X-Request-ID; every failure (a refused credential included) leaves in
    its contract's envelope; the metrics see the status actually sent. The caller's identity is
    resolved once here for every contract (gateway/auth/middleware.py).
    """
    started = time.perf_counter()
    incoming = request.headers.get(REQUEST_ID_HEADER)
    request_id = request[request_id_key] = incoming if incoming and _SAFE_ID.match(incoming) else os.urandom(16).hex()
    request[verdict_key] = None
    status = 500
    try:
        try:
            headers = request.headers
            # no credential, nothing to resolve (most guest traffic): skip the coroutine
            has_credential = "Authorization" in headers or "Cookie" in headers
            request[identity_key] = await resolve_identity(request) if has_credential else ANONYMOUS
            response = await handler(request)
        except asyncio.CancelledError:
            raise
        except web.HTTPException as exc:
            if exc.status < 400:
                status = exc.status
            response = _render(request, exc)
        except Exception as exc:
            response = _render(request, exc)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        add_ratelimit_headers(request, response)
        return response
    finally:
        # request.app is the root app in its own middleware: no ChainMap lookup needed
        request.app[metrics_key].observe_request(request, status, time.perf_counter() - started)
