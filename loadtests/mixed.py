"""Every kind of Roost user at once: event guests and tenant admins (001), pet owners' API clients
(000), families (002) and AI clients (003), over one or several gateways.

    DATABASE_URL=... locust -f loadtests/mixed.py --headless -u 60 -r 20 -t 60s \\
        --hosts http://127.0.0.1:8000,http://127.0.0.1:8001 [--quota 0] [--think S] \\
        [--max-failures 0] [--summary-json PATH] [each file's own options] [Guest PetOwner ...]

`make load` (loadtests/load.py) starts the servers and runs this; see loadtests/README.md.

The user classes are the files' own (each still runs alone with its own command line), here with
weights: out of 20 users, 10 guests, 3 pet owners, 3 family members, 2 AI clients and 2 tenant
admins; Locust gives every class at least one user when there are as many users as classes.
Naming classes on the command line runs only those (and only their setup steps). Each file's
setup step runs once, in import order, at Locust's init event: before the `--run-time` clock
starts, so a run's duration is all load. Every user takes its gateway from `--hosts` round robin
(loadtests/roost_user.py); the setup steps use the first.

Deliberate 429s are the ones a run asks for: the daily quota's under `--quota` (pet owners and AI
clients) and the tenant sign-in throttle's, left on (tenant admins retry after Retry-After). The
files mark those as successes and count them; every other 429 is a failure (the figures' `429s`
are the deliberate ones).

At the end it prints, per user kind and per request type, the requests, failures, 429s and
p50/p99, the errors, and exits non-zero when failures exceed --max-failures. `--summary-json`
writes the same figures as one JSON object (tests/loadtests/test_load_profile.py reads it).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests import ai_clients, families, guests, pet_owners, tenant_admins  # noqa: E402
from loadtests.roost_user import add_option, hosts, parsed, set_mixed  # noqa: E402

set_mixed()


class Guest(guests.Guest):
    weight = 10


class PetOwner(pet_owners.PetOwner):
    weight = 3


class FamilyMember(families.FamilyMember):
    weight = 3


class AiClient(ai_clients.AiClient):
    weight = 2


class TenantAdmin(tenant_admins.TenantAdmin):
    weight = 2


KINDS = ("guests", "pet_owners", "families", "ai_clients", "tenant_admins")

_by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"requests": 0, "failures": 0, "429s": 0})
_times: dict[str, list[float]] = defaultdict(list)
_name_kind: dict[tuple[str, str], str] = {}
_name_429: dict[tuple[str, str], int] = defaultdict(int)
_users: dict[str, int] = {}
_by_host: dict[str, int] = defaultdict(int)
_kind_host: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_env: dict[str, Environment] = {}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser.add_argument_group("Roost mixed profile")
    add_option(group, "--summary-json", default="", help="also write the end-of-run figures to this file as JSON")


@events.request.add_listener
def _count(request_type: str, name: str, response_time: float, response: Any = None, context: Any = None,
           exception: Any = None, **_: Any) -> None:
    kind = (context or {}).get("kind", "other")
    host = (context or {}).get("host") or "other"
    _by_host[host] += 1
    _kind_host[kind][host] += 1
    counts = _by_kind[kind]
    counts["requests"] += 1
    _times[kind].append(response_time)
    _name_kind[(name, request_type)] = kind
    if exception is not None:
        counts["failures"] += 1
    # a 429 the user marked a success is a deliberate one; any other is among the failures
    if exception is None and response is not None and getattr(response, "status_code", None) == 429:
        counts["429s"] += 1
        _name_429[(name, request_type)] += 1


@events.init.add_listener
def _keep(environment: Environment, **_: Any) -> None:
    _env["environment"] = environment


@events.spawning_complete.add_listener
def _record_users(user_count: int, **_: Any) -> None:
    """Users per kind once the ramp is done (at quitting they have been stopped)."""
    environment = _env["environment"]
    classes = {c.__name__: c for c in environment.user_classes}
    counts = getattr(environment.runner, "user_classes_count", None) or {}
    _users.update({getattr(classes.get(name), "kind", name): n for name, n in counts.items()})


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(environment: Environment) -> dict[str, Any]:
    total = environment.stats.total
    kinds = {}
    for kind in sorted(_by_kind, key=lambda k: KINDS.index(k) if k in KINDS else len(KINDS)):
        counts = _by_kind[kind]
        kinds[kind] = {
            "users": _users.get(kind, 0),
            **counts,
            "p50_ms": round(_percentile(_times[kind], 0.5), 1),
            "p99_ms": round(_percentile(_times[kind], 0.99), 1),
            "requests_per_host": dict(_kind_host[kind]),
        }
    requests = []
    for (name, method), entry in sorted(environment.stats.entries.items(),
                                        key=lambda item: (_name_kind.get(item[0], ""), item[0])):
        requests.append({
            "kind": _name_kind.get((name, method), "other"),
            "name": name,
            "method": method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "429s": _name_429.get((name, method), 0),
            "p50_ms": entry.get_response_time_percentile(0.5) or 0,
            "p99_ms": entry.get_response_time_percentile(0.99) or 0,
        })
    errors = [
        {"method": e.method, "name": e.name, "error": str(e.error)[:300], "occurrences": e.occurrences}
        for e in environment.stats.errors.values()
    ]
    return {
        "hosts": hosts(environment) or [environment.host],
        "requests_per_host": dict(_by_host),
        "users": sum(_users.values()),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "429s": sum(k["429s"] for k in _by_kind.values()),
        "rps": round(total.total_rps, 1),
        "p50_ms": total.get_response_time_percentile(0.5) or 0,
        "p99_ms": total.get_response_time_percentile(0.99) or 0,
        "kinds": kinds,
        "request_types": requests,
        "errors": errors,
    }


def _request_name(row: dict[str, Any]) -> str:
    """`GET /x` for a request Locust names `/x`; a name that already starts with its method as is."""
    name, method = row["name"], row["method"]
    return name if name.startswith(method + " ") else f"{method} {name}"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    opts = parsed(environment, "mixed.py")
    figures = summary(environment)
    out = sys.stderr
    print(
        f"\nmixed: {figures['users']} users over {len(figures['hosts'])} gateway(s), {figures['requests']} requests, "
        f"{figures['failures']} failures, {figures['429s']} deliberate 429s, p50 {figures['p50_ms']:.0f} ms, "
        f"p99 {figures['p99_ms']:.0f} ms, {figures['rps']} req/s",
        file=out,
    )
    print("requests per gateway: " + ", ".join(f"{h} {n}" for h, n in sorted(figures["requests_per_host"].items())),
          file=out)
    gateways = sorted(figures["requests_per_host"])
    print(_table(["kind", "users", "requests", "failures", "429s", "p50 ms", "p99 ms", "per gateway"], [
        [k, v["users"], v["requests"], v["failures"], v["429s"], v["p50_ms"], v["p99_ms"],
         " / ".join(str(v["requests_per_host"].get(h, 0)) for h in gateways)]
        for k, v in figures["kinds"].items()
    ]), file=out)
    print(_table(["kind", "request", "requests", "failures", "429s", "p50 ms", "p99 ms"], [
        [r["kind"], _request_name(r), r["requests"], r["failures"], r["429s"], r["p50_ms"], r["p99_ms"]]
        for r in figures["request_types"]
    ]), file=out)
    for error in figures["errors"]:
        print(f"error x{error['occurrences']}: {error['method']} {error['name']}: {error['error']}", file=out)
    if opts.summary_json:
        Path(opts.summary_json).write_text(json.dumps(figures, indent=1))
    if figures["failures"] > opts.max_failures:
        print(f"mixed: FAILED: {figures['failures']} failures > {opts.max_failures}", file=out)
        environment.process_exit_code = 1
    # a kind the run included that sent nothing did not take part: say so, do not pass silently
    silent = [k for k, n in _users.items() if n and not _by_kind.get(k, {}).get("requests")]
    if silent:
        print(f"mixed: FAILED: no requests from {', '.join(silent)}", file=out)
        environment.process_exit_code = 1
