"""Scenario kinds and the registry that `bench.py` runs from.

A scenario is one module in `loadtests/scenarios/` that calls `register(...)` at import time;
`load_scenarios()` imports every module there, so adding a benchmark touches no other file
(except `baseline.py`, when an HTTP scenario needs a new bare handler).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BenchConfig:
    """How long and how hard every scenario runs; BENCH_QUICK=1 shrinks everything to seconds."""

    quick: bool
    wrk_duration_s: int
    wrk_warmup_s: int
    rounds: int  # alternating ours/baseline pairs per HTTP scenario
    connections: int  # wrk's open connections
    concurrency: int  # in-process scenarios: concurrent requests
    hop_rounds: int  # in-process scenarios: gathers per path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, *, concurrency: int | None = None) -> BenchConfig:
        quick = environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no")
        return cls(
            quick=quick,
            wrk_duration_s=3 if quick else 10,
            wrk_warmup_s=1 if quick else 3,
            # three pairs so one noisy neighbour on this shared machine doesn't decide the result
            rounds=1 if quick else 3,
            connections=64,
            concurrency=concurrency or 64,
            hop_rounds=30 if quick else 300,
        )


@dataclass(frozen=True)
class BenchContext:
    """What every scenario gets: the migrated database and the Redis both sides use."""

    config: BenchConfig
    database_url: str
    redis_url: str
    ray_address: str | None
    namespace: str  # a Ray namespace of this run's own
    work_dir: Path  # this run's scratch folder (server logs, data)


@dataclass(frozen=True)
class SetupContext:
    """What an HTTP scenario's setup step may use to create its data (our storage or our API)."""

    database_url: str
    ours_url: str  # http://127.0.0.1:PORT of the Roost server
    baseline_url: str


@dataclass(frozen=True)
class HttpTarget:
    """One side of an HTTP scenario. `{name}` placeholders in path and header values are filled
    from what the scenario's setup step returned (ids, tokens)."""

    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    # a POST (or other method) sends these JSON bodies in turn, one per request (wrk's Lua hook)
    method: str = "GET"
    bodies: tuple[str, ...] = ()

    def resolve(self, values: Mapping[str, Any]) -> HttpTarget:
        return HttpTarget(
            path=self.path.format_map(values),
            headers={k: v.format_map(values) for k, v in self.headers.items()},
            method=self.method,
            bodies=tuple(b.format_map(values) for b in self.bodies),
        )


Setup = Callable[[SetupContext], Coroutine[Any, Any, Mapping[str, Any]]]


@dataclass(frozen=True)
class HttpScenario:
    """Roost at `ours` versus the bare handler in loadtests/baseline.py at `baseline`, both under wrk."""

    name: str
    ours: HttpTarget
    baseline: HttpTarget
    setup: Setup | None = None
    # When set, the baseline side is a second Roost started with these environment overrides
    # (e.g. quota and throttles off) instead of the bare handler: it prices one feature.
    baseline_roost_env: Mapping[str, str] | None = None


@dataclass(frozen=True)
class InProcessScenario:
    """Measured inside the bench process (no HTTP); `run` returns the scenario's JSON object.

    `run` is synchronous because Ray must be initialised from the main thread, outside any loop.
    """

    name: str
    run: Callable[[BenchContext], dict[str, Any]]


Scenario = HttpScenario | InProcessScenario

REGISTRY: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    if scenario.name in REGISTRY and REGISTRY[scenario.name] is not scenario:
        raise ValueError(f"scenario {scenario.name!r} is registered twice")
    REGISTRY[scenario.name] = scenario
    return scenario


def load_scenarios() -> dict[str, Scenario]:
    from loadtests import scenarios

    for module in pkgutil.iter_modules(scenarios.__path__):
        importlib.import_module(f"{scenarios.__name__}.{module.name}")
    return REGISTRY


def select(names: list[str], registry: Mapping[str, Scenario]) -> list[Scenario]:
    """The named scenarios (all when none are named), in-process ones first.

    In-process scenarios start a Ray instance in this process; they run before the servers start
    so that never two Ray instances share these two cores during a measurement.
    """
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise KeyError(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(sorted(registry))}")
    chosen = [registry[n] for n in dict.fromkeys(names or registry)]
    return [s for s in chosen if isinstance(s, InProcessScenario)] + [
        s for s in chosen if isinstance(s, HttpScenario)
    ]
