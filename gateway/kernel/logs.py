"""JSON logs: one object per line, on stderr, with whatever `extra=` the call passed."""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar

import orjson
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from gateway.kernel.client_address import client_ip
from gateway.kernel.keys import request_id_key

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


# The id of the request being handled, set by the root middleware: every line logged while a
# request is served carries it, whoever logs it (a handler, the domain, a library).
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # warnings.warn() output becomes a JSON line too (logger "py.warnings"), not two plain ones
    logging.captureWarnings(True)


def route_to_root(*names: str) -> None:
    """Libraries that install a handler of their own on import (Ray does) write plain text to
    stderr beside our JSON; send their records through the root handler instead. Call after
    importing them."""
    for name in names:
        lib = logging.getLogger(name)
        lib.handlers[:] = []
        lib.propagate = True


class JsonAccessLogger(AbstractAccessLogger):
    """One JSON line per request, in the same shape as JsonFormatter's.

    Written straight to stderr rather than through a LogRecord: building a record, formatting it
    and running the handler chain cost about a quarter of a trivial request's time.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, duration: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        now = time.time()
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z",
            "level": "info",
            "logger": self.logger.name,
            "msg": "request",
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round(duration * 1000, 3),
            "request_id": request.get(request_id_key),
            "remote": client_ip(request),
        }
        sys.stderr.write(orjson.dumps(entry).decode() + "\n")
