"""Request ids and the error middleware: every failure leaves in its contract's envelope."""

from __future__ import annotations

import asyncio
import logging
import os
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from domain.errors import MethodNotAllowed, RoostError, from_http_status
from gateway.errors_render import render_error
from gateway.keys import request_id_key

log = logging.getLogger("roost.gateway")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and plain: it ends up in logs and headers.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request[request_id_key] = incoming if incoming and _SAFE_ID.match(incoming) else os.urandom(16).hex()
    response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request[request_id_key]
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RoostError as err:
        if err.status >= 500:
            log.error("request failed", extra={"code": err.code, "request_id": request.get(request_id_key)})
        return render_error(request, err)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and 304s are answers, not errors
            raise
        err = from_http_status(exc.status, exc.reason)
        if isinstance(err, MethodNotAllowed) and isinstance(exc, web.HTTPMethodNotAllowed):
            err.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
        return render_error(request, err)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error", extra={"request_id": request.get(request_id_key)})
        return render_error(request, RoostError())
