"""`make load`: the mixed Locust profile (loadtests/mixed.py) headless against Roost.

    python loadtests/load.py [--users 60] [--spawn-rate 20] [--duration 60s] [--gateways 1]
                             [--quota 0] [--hosts http://a,http://b] [--summary-json PATH] [--keep]
                             [-- locust args]

Without --hosts it starts what the run stands on, as the benchmarks do (loadtests/services.py):
PostgreSQL and Redis from DATABASE_URL/REDIS_URL or embedded ones, a fresh migrated database of
the run's own (dropped at the end), the fake AI provider (loadtests/fake_provider.py, 100 ms a
generation) with the gateways' AI settings pointing at it, and `--gateways` `roost serve`
processes on free loopback ports. One gateway brings its own local Ray, as `roost serve` does;
two or more share one Ray started here (its raylet's workers inherit this process's environment,
the AI key included) and one Ray namespace and Redis prefix, so they share the shard actors, the
throttles and the media folder, as N replicas of one deployment do.

Throttles: the /api minute throttles and 002's hourly limits are raised out of the way (the
benchmarks' settings: a run sends more per user than a person would); the daily quota is off
unless --quota sets it, and then its 429s are deliberate; the tenant sign-in throttle and the AI,
guest and tenant-API budgets are left on at their defaults, which the profile stays under.

With --hosts nothing is started: the gateways must share the PostgreSQL at DATABASE_URL (the
setup steps write there) and APP_KEY (the families' JWTs) and an AI provider, or leave the AI
clients out by naming the other classes after `--`.

It prints the mixed profile's figures (per user kind and request type: requests, failures, 429s,
p50/p99), the load average, stops what it started and exits with Locust's status: non-zero when
there were failures other than deliberate 429s.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import actors  # noqa: E402,F401  (loopback flag before anything imports ray)
from loadtests.progress import progress  # noqa: E402
from loadtests.services import (  # noqa: E402
    REPO_ROOT,
    Cores,
    FreshDatabase,
    ServerProcess,
    free_port,
    roost_server,
    sigterm_as_interrupt,
    start_backing_services,
)

PROVIDER_LATENCY_S = 0.1
KEY_ENV = "LOAD_AI_API_KEY"
MIXED = str(Path(__file__).with_name("mixed.py"))


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=20.0)
    parser.add_argument("--duration", default="60s", help="Locust's --run-time (60s, 2m, ...)")
    parser.add_argument("--gateways", type=int, default=1, help="gateways to start (without --hosts)")
    parser.add_argument("--hosts", default="", help="comma-separated running gateways: start nothing")
    parser.add_argument("--quota", type=int, default=0, help="daily /api quota per regular user (0: off)")
    parser.add_argument("--summary-json", default="", help="also write the figures here")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's database and folder (gateway logs) to look into a failure")
    args, extra = parser.parse_known_args(argv)
    if args.gateways < 1:
        parser.error("--gateways must be at least 1")
    return args, [a for a in extra if a != "--"]


def run_locust(args: argparse.Namespace, hosts: list[str], env: dict[str, str], extra: list[str],
               summary_path: str) -> int:
    argv = [
        sys.executable, "-m", "locust", "-f", MIXED, "--headless", "--only-summary",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.duration,
        "--host", hosts[0], "--hosts", ",".join(hosts), "--quota", str(args.quota),
        "--summary-json", summary_path, *extra,
    ]
    progress(f"locust: {args.users} users for {args.duration} over {len(hosts)} gateway(s)")
    return subprocess.run(argv, env=env, cwd=REPO_ROOT).returncode


def _start_fake_provider(stack: ExitStack, key: str) -> str:
    port = free_port()
    script = str(Path(__file__).with_name("fake_provider.py"))
    fake = subprocess.Popen(
        [sys.executable, script, "--port", str(port), "--latency", str(PROVIDER_LATENCY_S), "--key", key],
        stdin=subprocess.DEVNULL,
    )

    def stop() -> None:
        fake.terminate()
        fake.wait(timeout=10)

    stack.callback(stop)
    return f"http://127.0.0.1:{port}"


def _shared_ray(stack: ExitStack) -> str:
    """A Ray head in this process for the gateways to join; stopped with this process's stack."""
    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False)
    stack.callback(ray.shutdown)
    sigterm_as_interrupt()  # ray.init installed its own SIGTERM handler
    return ray.get_runtime_context().gcs_address


def start_roost(stack: ExitStack, args: argparse.Namespace, work_dir: Path) -> tuple[list[ServerProcess], str]:
    """The services, a fresh database, the fake provider and the gateways; (servers, database url)."""
    progress("starting PostgreSQL/Redis (embedded unless DATABASE_URL/REDIS_URL are set)")
    embedded, endpoints = start_backing_services(work_dir / "var")
    stack.callback(embedded.stop)
    database = FreshDatabase(endpoints.database_url)
    database.start()
    if args.keep:
        progress(f"--keep: database {database.dsn} stays after the run")
    else:
        stack.callback(database.stop)
    progress(f"database {database.name} migrated")
    key = secrets.token_hex(16)
    os.environ[KEY_ENV] = key  # before a shared Ray starts: its workers run the AI jobs
    provider = _start_fake_provider(stack, key)
    namespace = f"roost-load-{uuid.uuid4().hex[:8]}"
    shared = {
        "APP_KEY": os.environ["APP_KEY"],
        "AI_PROVIDER": "gorq",
        "AI_BASE_URL": provider,
        "AI_API_KEY_ENV": KEY_ENV,
        KEY_ENV: key,
        # the provider timeout, retries and breaker stay at their defaults (30 s): a run at 10 s, as
        # ai_pool sets, once saw 2 generations fail at load average 42 (cause not established)
        # one deployment: the same actors, throttle buckets and media folder for every gateway
        "ROOST_RAY_NAMESPACE": namespace,
        "REDIS_PREFIX": namespace,
        "ROOST_DATA_DIR": str(work_dir / "roost-data"),
    }
    if args.gateways > 1:
        progress("starting a Ray head for the gateways to share")
        shared["RAY_ADDRESS"] = _shared_ray(stack)
    servers = []
    for i in range(args.gateways):
        server = roost_server(
            work_dir=work_dir, database_url=database.dsn, redis_url=endpoints.redis_url, namespace=namespace,
            cores=Cores(server=None, generator=None), name=f"gateway-{i}", extra_env=shared,
        )
        server.start()
        stack.callback(server.stop)
        servers.append(server)
    for server in servers:
        server.wait_ready()
    return servers, database.dsn


def recap(figures: dict) -> None:
    """The verdict's figures once more, after Locust's own tables."""
    print(
        f"load: {figures['users']} users over {len(figures['hosts'])} gateway(s): {figures['requests']} requests, "
        f"{figures['failures']} failures, {figures['429s']} deliberate 429s, p50 {figures['p50_ms']:.0f} ms, "
        f"p99 {figures['p99_ms']:.0f} ms, {figures['rps']} req/s",
        file=sys.stderr,
    )
    for kind, k in figures["kinds"].items():
        print(f"load:   {kind}: {k['users']} users, {k['requests']} requests, {k['failures']} failures, "
              f"{k['429s']} 429s, p50 {k['p50_ms']:.0f} ms, p99 {k['p99_ms']:.0f} ms", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(argv)
    sigterm_as_interrupt()
    if not args.hosts:
        # one key for the gateways and the families' setup step, which signs their JWTs (against
        # running gateways it takes APP_KEY from the environment or the checkout's .env, as they do)
        os.environ.setdefault("APP_KEY", secrets.token_hex(24))
    work_dir = Path(tempfile.mkdtemp(prefix="roost-load-"))
    summary_path = args.summary_json or str(work_dir / "summary.json")
    servers: list[ServerProcess] = []
    code = 1
    try:
        with ExitStack() as stack:
            if args.keep:
                progress(f"--keep: {work_dir} (the gateways' logs) stays after the run")
            else:
                stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
            env = dict(os.environ)
            if args.hosts:
                hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
                if not env.get("DATABASE_URL"):
                    raise SystemExit("load: with --hosts, set DATABASE_URL to the gateways' database")
            else:
                servers, dsn = start_roost(stack, args, work_dir)
                hosts = [s.url for s in servers]
                env["DATABASE_URL"] = dsn
            code = run_locust(args, hosts, env, extra, summary_path)
            if code != 0:
                for server in servers:
                    print(f"--- {server.name} log (last lines) ---\n{server.log_tail(25)}", file=sys.stderr)
            one, five, fifteen = os.getloadavg()
            print(f"load: load average at the end {one:.2f} {five:.2f} {fifteen:.2f} "
                  f"({os.cpu_count()} CPUs); exit {code}", file=sys.stderr)
            if Path(summary_path).exists():
                figures = json.loads(Path(summary_path).read_text())
                figures["load_average"] = [round(one, 2), round(five, 2), round(fifteen, 2)]
                Path(summary_path).write_text(json.dumps(figures, indent=1))
                recap(figures)
    except KeyboardInterrupt:
        print("load: interrupted; everything it started has been stopped", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
