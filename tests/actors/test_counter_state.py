"""CounterState without Ray or a database: the logic the shard actor wraps."""

from __future__ import annotations

import pytest

from actors.counters import CounterState
from domain.errors import Invalid, NotFound


def loaded(*keys: str, value: int | None = None) -> CounterState:
    state = CounterState()
    for key in keys:
        state.restore(key, value)
    return state


def test_restore_none_starts_at_zero_and_marks_loaded():
    state = CounterState()
    assert not state.loaded("a")
    state.restore("a", None)
    assert state.loaded("a")
    assert state.apply("get", "a", ()) == 0


def test_add_accumulates_and_records_one_write_per_key():
    state = loaded("a", "b")
    assert state.apply("add", "a", (2,)) == 2
    assert state.apply("add", "a", (3,)) == 5
    assert state.apply("add", "b", (-1,)) == -1
    # absolute values, one per key, so re-saving a batch is harmless
    assert state.take_writes() == [("a", 5), ("b", -1)]
    assert state.take_writes() == []


def test_get_writes_nothing():
    state = loaded("a", value=7)
    assert state.apply("get", "a", ()) == 7
    assert state.take_writes() == []


def test_take_up_to_grants_only_what_is_left():
    state = loaded("q")
    assert state.apply("take_up_to", "q", (4, 10)) == 4
    assert state.apply("take_up_to", "q", (4, 10)) == 4
    assert state.apply("take_up_to", "q", (4, 10)) == 2
    assert state.apply("take_up_to", "q", (4, 10)) == 0
    assert state.apply("get", "q", ()) == 10
    assert state.take_writes() == [("q", 10)]


def test_take_up_to_after_limit_lowered_grants_nothing():
    state = loaded("q", value=8)
    assert state.apply("take_up_to", "q", (5, 5)) == 0
    assert state.take_writes() == []


@pytest.mark.parametrize("args", [(-1, 10), ("3", 10), (1.5, 10)])
def test_take_up_to_rejects_bad_want(args):
    state = loaded("q")
    with pytest.raises(Invalid):
        state.apply("take_up_to", "q", args)
    assert state.apply("get", "q", ()) == 0


def test_add_rejects_non_integer():
    with pytest.raises(Invalid):
        loaded("a").apply("add", "a", ("1",))


def test_unknown_method_is_not_found():
    with pytest.raises(NotFound):
        loaded("a").apply("explode", "a", ())


def test_forget_drops_value_and_pending_write():
    state = loaded("a")
    state.apply("add", "a", (1,))
    state.forget(["a"])
    assert not state.loaded("a")
    assert state.take_writes() == []
