"""The generic HTTP machinery: both servers up once, then each HTTP scenario under wrk.

Runs alternate between the two sides (ours, baseline, then baseline, ours, ...) after a warmup
of each, so slow drift on a shared machine (another tenant, thermal) hits both sides alike.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.progress import progress, warn
from loadtests.registry import BenchContext, HttpScenario, HttpTarget, SetupContext
from loadtests.results import http_line
from loadtests.services import Cores, ServerProcess, baseline_server, roost_server
from loadtests.wrk import WrkRun, body_script, run_wrk, wrk_command


@dataclass
class Servers:
    ours: ServerProcess
    baseline: ServerProcess
    cores: Cores


def start_servers(stack: ExitStack, ctx: BenchContext, work_dir: Path, cores: Cores) -> Servers:
    ours = roost_server(
        work_dir=work_dir,
        database_url=ctx.database_url,
        redis_url=ctx.redis_url,
        namespace=ctx.namespace,
        cores=cores,
    )
    baseline = baseline_server(work_dir=work_dir, database_url=ctx.database_url, cores=cores)
    for server in (ours, baseline):
        server.start()
        stack.callback(server.stop)
    for server in (ours, baseline):
        server.wait_ready()
    progress(f"servers ready: roost {ours.url}, baseline {baseline.url}")
    return Servers(ours=ours, baseline=baseline, cores=cores)


def _wrk(server: ServerProcess, target: HttpTarget, ctx: BenchContext, cores: Cores, duration_s: int) -> WrkRun:
    script = None
    if target.bodies:
        path = ctx.work_dir / f"wrk-{server.name}-{abs(hash(target.bodies))}.lua"
        path.write_text(body_script(target.method, target.bodies))
        script = str(path)
    cmd = wrk_command(
        server.url + target.path,
        connections=ctx.config.connections,
        duration_s=duration_s,
        headers=target.headers,
        core=cores.generator,
        script=script,
    )
    run = run_wrk(cmd)
    report = run.report
    if report.non_2xx:
        # A benchmark of error responses measures the error path; the scenario is misconfigured.
        raise RuntimeError(f"{server.name} {target.path}: {report.non_2xx} non-2xx responses:\n{server.log_tail()}")
    if report.socket_errors:
        warn(f"{server.name} {target.path}: {report.socket_errors} socket errors (connect/read/write/timeout)")
    return run


def run_http_scenario(scenario: HttpScenario, servers: Servers, ctx: BenchContext) -> dict[str, Any]:
    if scenario.baseline_roost_env is None:
        return _run(scenario, servers, ctx)
    with ExitStack() as stack:
        other = roost_server(
            work_dir=ctx.work_dir,
            database_url=ctx.database_url,
            redis_url=ctx.redis_url,
            namespace=ctx.namespace,
            cores=servers.cores,
            name="roost-baseline",
            extra_env=scenario.baseline_roost_env,
        )
        other.start()
        stack.callback(other.stop)
        other.wait_ready()
        progress(f"{scenario.name}: baseline is Roost with {dict(scenario.baseline_roost_env)} at {other.url}")
        return _run(scenario, Servers(ours=servers.ours, baseline=other, cores=servers.cores), ctx)


def _run(scenario: HttpScenario, servers: Servers, ctx: BenchContext) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if scenario.setup is not None:
        progress(f"{scenario.name}: setup")
        setup_ctx = SetupContext(
            database_url=ctx.database_url, ours_url=servers.ours.url, baseline_url=servers.baseline.url
        )
        values = dict(asyncio.run(scenario.setup(setup_ctx)))
    sides = {
        "ours": (servers.ours, scenario.ours.resolve(values)),
        "baseline": (servers.baseline, scenario.baseline.resolve(values)),
    }
    cfg = ctx.config
    for name, (server, target) in sides.items():
        progress(f"{scenario.name}: warmup {name} {target.path} ({cfg.wrk_warmup_s} s)")
        _wrk(server, target, ctx, servers.cores, cfg.wrk_warmup_s)
    runs: dict[str, list[WrkRun]] = {"ours": [], "baseline": []}
    for i in range(cfg.rounds):
        order = ("ours", "baseline") if i % 2 == 0 else ("baseline", "ours")
        for name in order:
            server, target = sides[name]
            run = _wrk(server, target, ctx, servers.cores, cfg.wrk_duration_s)
            runs[name].append(run)
            progress(
                f"{scenario.name}: round {i + 1}/{cfg.rounds} {name}: {run.report.rps:.0f} req/s, "
                f"p99 {run.report.p99_ms:.2f} ms, wrk cpu {run.cpu_share:.0%} of its core"
            )
            if run.generator_bound:
                warn(
                    f"{scenario.name} {name}: wrk used {run.cpu_share:.0%} of its core; the load "
                    "generator, not the server, was the bottleneck, so this ratio understates the gap"
                )
    return http_line(scenario.name, runs["ours"], runs["baseline"])
