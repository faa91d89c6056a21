"""Driving wrk and reading its report: throughput, p50/p99 latency, and how hard wrk itself worked.

wrk is the one load generator for both sides of every HTTP scenario. It is pinned to a core of
its own; its CPU time (from the kernel's accounting of the finished child, not sampled) tells us
when it, rather than the server, was the bottleneck, which would make the ratio meaningless.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# wrk -t1 has one busy thread (the main thread only waits); at or above this share of one core it
# had no headroom left, so the server may have been able to go faster than it was driven.
GENERATOR_BOUND_CPU = 0.90

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s+Non-2xx or 3xx responses:\s+(\d+)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$", re.MULTILINE
)


class WrkError(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkReport:
    """What one wrk run printed, in requests/s and milliseconds."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    socket_errors: int = 0


@dataclass(frozen=True)
class WrkRun:
    report: WrkReport
    wall_s: float
    cpu_s: float  # wrk's own user+sys time

    @property
    def cpu_share(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def generator_bound(self) -> bool:
        return is_generator_bound(self.cpu_s, self.wall_s)


def is_generator_bound(cpu_s: float, wall_s: float, threshold: float = GENERATOR_BOUND_CPU) -> bool:
    return wall_s > 0 and cpu_s / wall_s >= threshold


def to_ms(value: str, unit: str) -> float:
    return float(value) * _TIME_UNITS_MS[unit]


def parse_wrk(text: str) -> WrkReport:
    """Parse the report `wrk --latency` prints. Raises WrkError when a part we need is missing."""
    rps = _RPS.search(text)
    if rps is None:
        raise WrkError("wrk output has no 'Requests/sec:' line:\n" + text)
    percentiles = {float(p): to_ms(v, u) for p, v, u in _PERCENTILE.findall(text)}
    if 50.0 not in percentiles or 99.0 not in percentiles:
        raise WrkError("wrk output has no latency distribution (was --latency passed?):\n" + text)
    requests = _REQUESTS.search(text)
    non_2xx = _NON_2XX.search(text)
    socket_errors = _SOCKET_ERRORS.search(text)
    return WrkReport(
        rps=float(rps.group(1)),
        p50_ms=percentiles[50.0],
        p99_ms=percentiles[99.0],
        requests=int(requests.group(1)) if requests else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    )


def wrk_command(
    url: str,
    *,
    connections: int,
    duration_s: int,
    headers: Mapping[str, str] | None = None,
    core: int | None = None,
    script: str | None = None,
) -> list[str]:
    # One wrk thread: it fits on one pinned core, and its CPU share then reads directly as
    # "fraction of the generator's capacity used".
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency"]
    if script is not None:
        cmd += ["-s", script]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    if core is not None:
        cmd = ["taskset", "-c", str(core), *cmd]
    return cmd


def body_script(method: str, bodies: Sequence[str]) -> str:
    """A wrk Lua script sending `bodies` (JSON) in turn with `method`: each request a new one."""
    for body in bodies:
        if "]==]" in body:
            raise ValueError("a body may not contain ]==]")
    listed = ",\n".join(f"  [==[{body}]==]" for body in bodies)
    return (
        f'wrk.method = "{method}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"local bodies = {{\n{listed}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[i])\n"
        "end\n"
    )


def run_wrk(cmd: Sequence[str]) -> WrkRun:
    """Run wrk to completion; CPU time comes from wait4's rusage of that very child."""
    if shutil.which(cmd[0]) is None:
        raise WrkError(f"{cmd[0]} not found; `make bench` installs wrk (apt-get install wrk)")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    with proc.stdout:
        try:
            out = proc.stdout.read()
            # wait4 rather than proc.wait(): it hands back the child's own rusage. taskset execs
            # wrk, so this pid is wrk's.
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C mid-run: leave no wrk behind
            proc.kill()
            proc.wait()
            raise
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise WrkError(f"wrk exited with {proc.returncode}:\n{out}")
    return WrkRun(report=parse_wrk(out), wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime)
