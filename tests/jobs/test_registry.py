"""The handler registry and the backoff policy, without Ray or a database."""

from __future__ import annotations

import pytest

from jobs import registry
from jobs.registry import UnknownJobKind, job, lookup
from jobs.worker import RunPolicy


def test_lookup_imports_the_kinds_module():
    handler = lookup("selftest.echo")
    assert handler.__module__ == "jobs.selftest"
    assert "selftest.fail_times" in registry.kinds()


@pytest.mark.parametrize("kind", ["nope.missing", "selftest.missing", "no_dot", "Bad.Kind", "../x.y"])
def test_unknown_kinds_are_permanent_errors(kind):
    with pytest.raises(UnknownJobKind, match="unknown job kind"):
        lookup(kind)


def test_handlers_must_live_in_their_kinds_module():
    async def handler(payload, ctx):
        return None

    with pytest.raises(ValueError, match="must be defined in jobs.elsewhere"):
        job("elsewhere.thing")(handler)
    with pytest.raises(ValueError, match="must look like"):
        job("nodot")


def test_handlers_must_be_async():
    def handler(payload, ctx):
        return None

    with pytest.raises(TypeError, match="async"):
        job("selftest.sync")(handler)


def test_backoff_doubles_within_jitter_and_is_capped():
    policy = RunPolicy(backoff_base_s=1.0, backoff_cap_s=10.0)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (30, 10.0)]:
        for _ in range(20):
            assert full / 2 <= policy.backoff(attempt) <= full
