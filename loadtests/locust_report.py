"""The last lines of every Locust file's run: totals, p50/p99, the file's own counts, and a non-zero
exit when failures pass `--max-failures`. Under loadtests/mixed.py only the file's own counts: the
totals are every kind's, and mixed.py reports and judges them."""

from __future__ import annotations

import sys
from typing import Any


def report(environment: Any, name: str, max_failures: int, details: str) -> None:
    from loadtests.roost_user import is_mixed

    if is_mixed():
        print(f"{name}: {details}", file=sys.stderr)
        return
    total = environment.stats.total
    p50 = total.get_response_time_percentile(0.5) or 0.0
    p99 = total.get_response_time_percentile(0.99) or 0.0
    print(
        f"{name}: {total.num_requests} requests, {total.num_failures} failures, p50 {p50:.0f} ms, "
        f"p99 {p99:.0f} ms, {total.total_rps:.0f} req/s; {details}",
        file=sys.stderr,
    )
    if total.num_failures > max_failures:
        print(f"{name}: FAILED: {total.num_failures} failures > {max_failures}", file=sys.stderr)
        environment.process_exit_code = 1
