"""Prometheus metrics: request counts and latencies by method, route pattern, status and contract.

Labels use the route's pattern (`/api/pets/{pet}`), never the concrete path, so ids cannot blow up
the series count; unmatched URLs share one `unmatched` label.

Recording is on every request's path, so it is plain counting in this process's event loop: a
list of numbers per label set, turned into Prometheus families only when /metrics is scraped.
(prometheus_client's Histogram takes a lock and walks its buckets per observation, which cost the
cheapest routes, the guest polls, a seventh of their throughput.) The actor, lease, snapshot and job
families follow the same pattern (gateway/kernel/layer_metrics.py).

Who may scrape (METRICS_TOKEN, METRICS_PORT): with a port set, /metrics is served on that port
(a second listener in this process, for the cluster network only) and 404 on the public one; with
a token set, only `Authorization: Bearer <token>` gets an answer, on either port; with neither, the
public port serves it outside production only. Refusals look like any unknown route (404): the
endpoint's existence is not advertised either.
"""

from __future__ import annotations

import hmac
import logging
from bisect import bisect_left
from collections.abc import AsyncIterator, Iterator

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from domain.settings import Settings
from gateway.kernel.contracts import contract_of
from gateway.kernel.keys import settings_key
from gateway.kernel.layer_metrics import LayerMetrics

log = logging.getLogger(__name__)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LABELS = ("method", "route", "status", "contract")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

Labels = tuple[str, str, str, str]


class RequestMetrics(Collector):
    """Per label set: [count, sum of seconds, one count per bucket (the last is +Inf)]."""

    def __init__(self) -> None:
        self._series: dict[Labels, list[float]] = {}

    def series(self, labels: Labels) -> list[float]:
        """The label set's numbers, to hand to `record` (callers may keep the list)."""
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = [0, 0.0] + [0] * (len(BUCKETS) + 1)
        return series

    def observe(self, labels: Labels, seconds: float) -> None:
        record(self.series(labels), seconds)

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily("http_requests", "HTTP requests answered", labels=LABELS)
        duration = HistogramMetricFamily(
            "http_request_duration_seconds", "Time to answer an HTTP request", labels=LABELS
        )
        for labels, series in list(self._series.items()):
            requests.add_metric(labels, series[0])
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, count in zip((*map(str, BUCKETS), "+Inf"), series[2:], strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            duration.add_metric(labels, buckets, series[1])
        yield requests
        yield duration


def record(series: list[float], seconds: float) -> None:
    series[0] += 1
    series[1] += seconds
    series[2 + bisect_left(BUCKETS, seconds)] += 1


class Metrics:
    def __init__(self) -> None:
        # One registry per app, not the global one: tests build many apps in one process.
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = RequestMetrics()
        self.registry.register(self.requests)
        # actors, leases, snapshots and jobs (gateway/kernel/layer_metrics.py); bound to the root
        # app by gateway/wiring.py
        self.layers = LayerMetrics()
        self.registry.register(self.layers)
        # (resource, method, status) -> its series: the route label and the contract follow from
        # the matched resource alone, so matched requests skip working out their labels again
        self._matched: dict[tuple[object, str, int], list[float]] = {}

    def observe_request(self, request: web.Request, status: int, seconds: float) -> None:
        match_info = request.match_info
        resource = match_info.route.resource
        if resource is None or match_info.http_exception is not None:
            self.requests.observe(self._labels(request, "unmatched", status), seconds)
            return
        key = (resource, request.method, status)
        series = self._matched.get(key)
        if series is None:
            series = self._matched[key] = self.requests.series(self._labels(request, resource.canonical, status))
        record(series, seconds)

    @staticmethod
    def _labels(request: web.Request, route: str, status: int) -> Labels:
        method = request.method if request.method in _METHODS else "OTHER"
        return (method, route, str(status), contract_of(request).value)


# here rather than in gateway/kernel/keys.py: this module is its one reader and needs settings_key from there
metrics_key = web.AppKey("metrics", Metrics)


def _token_ok(request: web.Request, token: str | None) -> bool:
    if token is None:
        return True
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer ":
        return False
    # as bytes: compare_digest refuses non-ASCII str, and a client may send anything
    return hmac.compare_digest(header[7:].strip().encode("utf-8", "surrogateescape"), token.encode())


def public_metrics_allowed(request: web.Request, settings: Settings) -> bool:
    if settings.metrics_port is not None:
        return False
    if settings.metrics_token is None:
        return settings.app_env != "production"
    return _token_ok(request, settings.metrics_token)


async def _exposition(metrics: Metrics) -> web.Response:
    await metrics.layers.before_scrape()  # the job queue, read from PostgreSQL (time-boxed)
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def metrics_handler(request: web.Request) -> web.Response:
    """GET /metrics on the public port."""
    if not public_metrics_allowed(request, request.config_dict[settings_key]):
        raise web.HTTPNotFound()
    return await _exposition(request.config_dict[metrics_key])


async def metrics_port_ctx(app: web.Application) -> AsyncIterator[None]:
    """With METRICS_PORT set, a second listener in this process that serves only /metrics."""
    settings, metrics = app[settings_key], app[metrics_key]
    if settings.metrics_port is None:
        yield
        return

    async def private_metrics(request: web.Request) -> web.Response:
        if not _token_ok(request, settings.metrics_token):
            raise web.HTTPNotFound()
        return await _exposition(metrics)

    private = web.Application()
    private.router.add_get("/metrics", private_metrics)
    runner = web.AppRunner(private, access_log=None)
    await runner.setup()
    # every interface: the scraper reaches the pod's address; keep the port out of the ingress
    await web.TCPSite(runner, port=settings.metrics_port).start()
    log.info("metrics listener started", extra={"port": settings.metrics_port})
    try:
        yield
    finally:
        await runner.cleanup()
