"""The JSON objects bench.py prints, one per scenario per line, and the ratio arithmetic."""

from __future__ import annotations

import json
from typing import IO, Any

from loadtests.wrk import WrkRun


def ratio(numerator: float, denominator: float) -> float:
    if denominator <= 0:
        raise ValueError("a ratio needs a positive denominator")
    return round(numerator / denominator, 3)


def best(runs: list[WrkRun]) -> WrkRun:
    """The fastest run: on a shared machine interference only ever slows a run down."""
    return max(runs, key=lambda r: r.report.rps)


def http_line(scenario: str, ours: list[WrkRun], baseline: list[WrkRun]) -> dict[str, Any]:
    """ratio = ours/baseline throughput: 1.0 is as fast as a bare handler, 0.5 half as fast."""
    o, b = best(ours), best(baseline)
    line: dict[str, Any] = {
        "scenario": scenario,
        "ours_rps": round(o.report.rps, 1),
        "baseline_rps": round(b.report.rps, 1),
        "ours_p50_ms": round(o.report.p50_ms, 3),
        "ours_p99_ms": round(o.report.p99_ms, 3),
        "baseline_p50_ms": round(b.report.p50_ms, 3),
        "baseline_p99_ms": round(b.report.p99_ms, 3),
        "ratio": ratio(o.report.rps, b.report.rps),
    }
    # Any run, not just the best: one generator-bound run means the ceiling was the generator's.
    if any(r.generator_bound for r in (*ours, *baseline)):
        line["generator_bound"] = True
    return line


def actor_hop_line(
    *,
    concurrency: int,
    rounds: int,
    batched_s: float,
    naive_s: float,
    actor_calls_batched: int,
    actor_calls_naive: int,
) -> dict[str, Any]:
    """Amortized cost = total wall time / total requests; ratio = naive/batched (higher is better)."""
    requests = concurrency * rounds
    batched_us = batched_s * 1e6 / requests
    naive_us = naive_s * 1e6 / requests
    return {
        "scenario": "actor_hop",
        "concurrency": concurrency,
        "batched_us_per_req": round(batched_us, 2),
        "naive_us_per_req": round(naive_us, 2),
        "ratio": ratio(naive_us, batched_us),
        "rounds": rounds,
        # The coalescing made visible: about one actor call per round batched, `concurrency` naive.
        "actor_calls_batched": actor_calls_batched,
        "actor_calls_naive": actor_calls_naive,
    }


def emit(line: dict[str, Any], out: IO[str]) -> None:
    out.write(json.dumps(line) + "\n")
    out.flush()
