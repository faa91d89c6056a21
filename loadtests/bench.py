"""Benchmark harness: Roost against a bare aiohttp baseline on the same data, one JSON line per scenario.

    python loadtests/bench.py [scenario ...] [--concurrency N]     (BENCH_QUICK=1: seconds per run)

HTTP scenarios: a `roost serve` subprocess and loadtests/baseline.py, both pinned to one core,
driven in turn by the same wrk pinned to another core (one wrk thread); ratio = ours/baseline
req/s. In-process scenarios (actor_hop) run first, before the servers start. PostgreSQL and
Redis come from DATABASE_URL/REDIS_URL or are started embedded; either way the run gets a fresh,
migrated database of its own. stdout carries only the JSON lines; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import IO

# Run as `python loadtests/bench.py`, only loadtests/ is on sys.path; the package lives one up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import actors  # noqa: E402,F401  (loopback flag before anything imports ray)
from loadtests.progress import progress, warn  # noqa: E402
from loadtests.registry import (  # noqa: E402
    BenchConfig,
    BenchContext,
    HttpScenario,
    InProcessScenario,
    Scenario,
    load_scenarios,
    select,
)
from loadtests.results import emit  # noqa: E402
from loadtests.services import Cores, FreshDatabase, sigterm_as_interrupt, start_backing_services  # noqa: E402


def _json_stdout() -> IO[str]:
    """A private handle on the real stdout, with fd 1 pointed at stderr from here on.

    Ray, pgserver and subprocesses may print to stdout; the JSON lines must be all a consumer
    of stdout ever sees, so everything else is sent to stderr at the file-descriptor level.
    """
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--concurrency", type=_positive, default=None, help="concurrent requests for actor_hop (64)")
    parser.add_argument("--list", action="store_true", help="print the registered scenarios and exit")
    return parser.parse_args(argv)


def run(scenarios: list[Scenario], config: BenchConfig, out: IO[str]) -> None:
    http = [s for s in scenarios if isinstance(s, HttpScenario)]
    cores = Cores.detect()
    if http:
        if shutil.which("wrk") is None:
            raise SystemExit("bench: wrk not found; `make bench` installs it (apt-get install -y wrk)")
        if cores.pinned:
            progress(f"servers pinned to core {cores.server}, wrk pinned to its own core {cores.generator}")
        else:
            warn("no taskset or a single core: wrk shares cores with the servers; ratios are rough")
    work_dir = Path(tempfile.mkdtemp(prefix="roost-bench-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
        progress("starting PostgreSQL/Redis (embedded unless DATABASE_URL/REDIS_URL are set)")
        embedded, endpoints = start_backing_services(work_dir / "var")
        stack.callback(embedded.stop)
        database = FreshDatabase(endpoints.database_url)
        database.start()
        stack.callback(database.stop)
        progress(f"database {database.name} migrated")
        ctx = BenchContext(
            config=config,
            database_url=database.dsn,
            redis_url=endpoints.redis_url,
            ray_address=endpoints.ray_address,
            namespace=f"roost-bench-{uuid.uuid4().hex[:8]}",
            work_dir=work_dir,
        )
        for scenario in scenarios:
            if isinstance(scenario, InProcessScenario):
                emit(scenario.run(ctx), out)
        if http:
            from loadtests.http_bench import run_http_scenario, start_servers

            servers = start_servers(stack, ctx, work_dir, cores)
            for scenario in http:
                emit(run_http_scenario(scenario, servers, ctx), out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    registry = load_scenarios()
    if args.list:
        print("\n".join(sorted(registry)))
        return 0
    try:
        scenarios = select(args.scenarios, registry)
    except KeyError as exc:
        print(f"bench: {exc.args[0]}", file=sys.stderr)
        return 2
    config = BenchConfig.from_env(concurrency=args.concurrency)
    progress(
        f"scenarios: {', '.join(s.name for s in scenarios)}"
        + (" (BENCH_QUICK: short runs, for a quick check only)" if config.quick else "")
    )
    out = _json_stdout()
    sigterm_as_interrupt()
    try:
        run(scenarios, config, out)
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started has been stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
