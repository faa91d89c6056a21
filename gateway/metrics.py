"""Prometheus metrics: request counts and latencies by method, route pattern, status and contract.

Labels use the route's pattern (`/api/pets/{pet}`), never the concrete path, so ids cannot blow up
the series count; unmatched URLs share one `unmatched` label.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

from gateway.contracts import contract_of
from gateway.keys import metrics_key

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self) -> None:
        # One registry per app, not the global one: tests build many apps in one process.
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        labels = ("method", "route", "status", "contract")
        self.requests = Counter(
            "http_requests_total", "HTTP requests answered", labels, registry=self.registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            labels,
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        # labels() takes a lock and hashes the label values on every call; the set of label
        # tuples is small (routes x statuses), so the children are looked up once and kept.
        self._children: dict[tuple[str, str, str, str], tuple] = {}

    def observe(self, labels: tuple[str, str, str, str], seconds: float) -> None:
        children = self._children.get(labels)
        if children is None:
            children = self._children[labels] = (self.requests.labels(*labels), self.duration.labels(*labels))
        children[0].inc()
        children[1].observe(seconds)


def route_label(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource if route is not None else None
    if resource is None or request.match_info.http_exception is not None:
        return "unmatched"
    return resource.canonical


def observe_request(request: web.Request, status: int, seconds: float) -> None:
    method = request.method if request.method in _METHODS else "OTHER"
    labels = (method, route_label(request), str(status), contract_of(request).value)
    request.config_dict[metrics_key].observe(labels, seconds)


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.config_dict[metrics_key].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
