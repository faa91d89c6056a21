"""The Grafana dashboard and the alert rules (issue 15, item 6): every query names only metrics the
gateway exports, as a real /metrics scrape of the test app shows them, and the PrometheusRule
validates against the vendored CRD schema."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from gateway.kernel.keys import actors_key
from tests.k8s.manifests import K8S, crd_validator, one, render, render_overlay, strict

DASHBOARD = K8S / "base" / "grafana-dashboard.json"
RULES = K8S / "base" / "prometheusrule.yaml"

# PromQL words that are neither metrics nor functions
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"})
# label lists after these are label names, not metrics
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
# a whole identifier (no backing off to a shorter one) not followed by "(" (a function)
_IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:]|\s*\()")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count", "_created")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left once strings, label matchers,
    ranges, groupings, function names and keywords are taken out. Grafana's `label_values(m, l)`
    names metric m."""
    values = re.fullmatch(r"\s*label_values\(\s*([\w:]+)\s*,\s*\w+\s*\)\s*", expr)
    if values:
        return {values.group(1)}
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = _GROUPING.sub("", text)
    return {m for m in _IDENT.findall(text) if m not in _KEYWORDS}


def exported(text: str) -> set[str]:
    """Every sample name an exposition can carry: its samples, and for each family its type's
    names (a histogram with no series yet still has _bucket, _sum and _count)."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names.update(name + s for s in _HISTOGRAM_SUFFIXES)
            elif kind == "counter":
                names.update({name, name.removesuffix("_total") + "_total", name.removesuffix("_total") + "_created"})
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def dashboard_exprs(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, expression) of every panel target and templating query."""
    out: list[tuple[str, str]] = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            out.append((f"panel {panel['title']!r} {target['refId']}", target["expr"]))
    for var in dashboard["templating"]["list"]:
        query = var.get("query")
        if var["type"] == "query":
            out.append((f"variable {var['name']}", query["query"] if isinstance(query, dict) else query))
    return out


def rule_exprs(rule: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"{group['name']}/{r.get('alert') or r.get('record')}", r["expr"])
        for group in rule["spec"]["groups"]
        for r in group["rules"]
    ]


def unknown(exprs: list[tuple[str, str]], names: set[str]) -> list[str]:
    return [f"{where}: {m}" for where, expr in exprs for m in sorted(metric_names(expr) - names)]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


@pytest.fixture(scope="module")
def rule() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text())


@pytest.fixture
async def scraped(client) -> set[str]:
    """The metric names of a real scrape, after one request and one actor call (so the HTTP and
    actor families have series as well as their TYPE lines)."""
    assert (await client.get("/api/ping")).status == 200
    await client.app[actors_key]["counters"].call("add", "dashboard-test", 1)
    resp = await client.get("/metrics")
    assert resp.status == 200
    return exported(await resp.text())


# -- the extraction itself --------------------------------------------------------------------------


def test_metric_names_sees_through_functions_matchers_ranges_and_groupings() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (contract, le) (rate(http_request_duration_seconds_bucket'
        '{contract=~"$contract",route!~".*/ai/generate"}[$__rate_interval]))) > 1 '
        'and sum by (namespace) (rate(http_requests_total[5m])) / ignoring (le) roost_x:ratio offset 5m'
    )
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "http_requests_total", "roost_x:ratio"}
    assert metric_names("label_values(http_requests_total, contract)") == {"http_requests_total"}
    assert metric_names("max by (kind) (roost_job_queue_depth) > 1e3") == {"roost_job_queue_depth"}


def test_a_misspelt_metric_is_reported(scraped: set[str]) -> None:
    exprs = [("panel 'x' A", 'sum(rate(http_request_total{status=~"5.."}[5m]))')]
    assert unknown(exprs, scraped) == ["panel 'x' A: http_request_total"]


# -- the dashboard --------------------------------------------------------------------------------


def test_every_dashboard_query_names_an_exported_metric(dashboard: dict[str, Any], scraped: set[str]) -> None:
    exprs = dashboard_exprs(dashboard)
    assert len(exprs) >= 20
    assert unknown(exprs, scraped) == []


def test_the_dashboard_covers_every_layer(dashboard: dict[str, Any]) -> None:
    named = set().union(*(metric_names(e) for _, e in dashboard_exprs(dashboard)))
    for family in (
        "http_requests_total", "http_request_duration_seconds_bucket", "roost_actor_batch_size_bucket",
        "roost_actor_call_duration_seconds_bucket", "roost_lease_refills_total",
        "roost_snapshot_age_at_refresh_seconds_bucket", "roost_job_queue_depth", "roost_job_queue_oldest_seconds",
        "roost_job_retries_total", "roost_job_outcomes_total",
    ):
        assert family in named, family
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    # every query goes to the dashboard's datasource variable, so it imports into any Grafana
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_the_dashboard_ships_as_the_sidecars_configmap(dashboard: dict[str, Any]) -> None:
    for overlay in ("dev", "prod"):
        cm = one(render_overlay(overlay), "ConfigMap", "roost-grafana-dashboard")
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert json.loads(cm["data"]["grafana-dashboard.json"]) == dashboard


# -- the alert rules ------------------------------------------------------------------------------


def test_every_rule_names_an_exported_metric(rule: dict[str, Any], scraped: set[str]) -> None:
    exprs = rule_exprs(rule)
    alerts = {where.split("/")[1] for where, _ in exprs}
    assert alerts >= {"RoostHighErrorRate", "RoostHighLatencyP99", "RoostJobBacklog"}
    assert unknown(exprs, scraped) == []


def test_the_rule_validates_against_the_vendored_crd_schema(rule: dict[str, Any]) -> None:
    validator = crd_validator("monitoring.coreos.com/v1", "PrometheusRule")
    assert list(validator.iter_errors(rule)) == []
    rendered = one(render("base"), "PrometheusRule", "roost-gateway")
    assert list(validator.iter_errors(rendered)) == []
    # the schema is strict: a misspelt field is refused, as the API server's validation would
    broken = json.loads(json.dumps(rule))
    broken["spec"]["groups"][0]["rules"][0]["fore"] = "5m"
    assert any("fore" in e.message for e in validator.iter_errors(broken))
    assert strict({"properties": {}})["additionalProperties"] is False


def test_every_alert_waits_and_says_what_to_do(rule: dict[str, Any]) -> None:
    for group in rule["spec"]["groups"]:
        for r in group["rules"]:
            assert r["for"] in ("5m", "10m"), r["alert"]
            assert r["labels"]["severity"] in ("warning", "critical"), r["alert"]
            assert {"summary", "description", "runbook"} <= set(r["annotations"]), r["alert"]
