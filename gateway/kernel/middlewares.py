"""The gateway's outermost middleware: request ids, metrics, and every failure in its contract's envelope."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from domain.errors import MethodNotAllowed, RoostError, from_http_status
from gateway.kernel.auth.identity import identity_key
from gateway.kernel.auth.middleware import resolve as resolve_identity
from gateway.kernel.errors_render import ErrorRenderer
from gateway.kernel.keys import request_id_key
from gateway.kernel.logs import current_request_id
from gateway.kernel.metrics import Metrics
from gateway.kernel.throttle import add_ratelimit_headers, verdict_key
from gateway.kernel.validation import refuse_hostile_query
from storage.errors import translate as translate_db_error

log = logging.getLogger("roost.gateway")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and plain: it ends up in logs and headers.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Our own ids: 64 random bits per process and a counter. Unique across processes and restarts like
# a random id, without a getrandom() call per request.
_ID_PREFIX = os.urandom(8).hex()
_id_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


def _render(request: web.Request, exc: BaseException, render_error: ErrorRenderer) -> web.StreamResponse:
    """An escaped exception as its contract's error answer; redirects and 304s re-raise."""
    if isinstance(exc, asyncpg.PostgresError):
        # the safety net behind validation: a data error the handler did not wrap (a value
        # PostgreSQL refuses) is still the client's 4xx (storage/errors.py), not a 500
        err = translate_db_error(exc)
        if err.status < 500:
            return render_error(request, err)
    elif isinstance(exc, RoostError):
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


def stream_headers(request: web.Request) -> dict[str, str]:
    """Headers the middleware would add, for a handler that prepares (sends) its own answer before
    returning it (a streamed download): once prepared, headers can no longer be set."""
    return {REQUEST_ID_HEADER: request[request_id_key]}


def gateway_middleware(metrics: Metrics, render_error: ErrorRenderer) -> Middleware:
    """The root app's one middleware: request id, metrics (into `metrics`), authentication and the
    error envelope in one layer (each layer costs every request, and the guest polls that dominate
    traffic are answered in tens of microseconds).

    Every response carries X-Request-ID; every failure (a refused credential included) leaves in
    its contract's envelope; the metrics see the status actually sent. The caller's identity is
    resolved once here for every contract (gateway/kernel/auth/middleware.py). `render_error` puts
    a failure in its contract's envelope (gateway/kernel/errors_render.py).
    """
    observe = metrics.observe_request

    @web.middleware
    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER)
        request_id = request[request_id_key] = incoming if incoming and _SAFE_ID.match(incoming) else new_request_id()
        # every log line while this request is served names it (logs.py); reset afterwards so the
        # connection's next request, or a line between two, is never attributed to this one
        logged_as = current_request_id.set(request_id)
        request[verdict_key] = None
        status = 500
        try:
            try:
                refuse_hostile_query(request)
                headers = request.headers
                # No credential, nothing to resolve and nothing to store: identity_of() answers
                # ANONYMOUS for a request without one (most guest traffic, where this is measurable).
                if "Authorization" in headers or "Cookie" in headers:
                    request[identity_key] = await resolve_identity(request)
                response = await handler(request)
            except asyncio.CancelledError:
                raise
            except web.HTTPException as exc:
                if exc.status < 400:
                    status = exc.status
                response = _render(request, exc, render_error)
            except Exception as exc:
                response = _render(request, exc, render_error)
            status = response.status
            if not response.prepared:  # a streamed answer carries it already (stream_headers)
                response.headers[REQUEST_ID_HEADER] = request_id
            add_ratelimit_headers(request, response)
            return response
        finally:
            current_request_id.reset(logged_as)
            observe(request, status, time.perf_counter() - started)

    return gateway
