"""QuotaState without Ray: counts like the counters kind, forgets days that are over."""

from __future__ import annotations

from datetime import date

from actors.quota import QuotaState, day_of, quota_key

D1, D2, D3 = date(2030, 1, 1), date(2030, 1, 2), date(2030, 1, 3)


def test_key_shape():
    assert quota_key(7, D1) == "quota:7:2030-01-01"
    assert day_of("quota:7:2030-01-01") == D1
    assert day_of("quota:7:nope") is None


def test_take_up_to_never_exceeds_the_limit():
    state = QuotaState()
    key = quota_key(1, D1)
    state.restore(key, None)
    assert state.apply("take_up_to", key, (16, 20)) == 16
    assert state.apply("take_up_to", key, (16, 20)) == 4
    assert state.apply("take_up_to", key, (16, 20)) == 0
    assert state.take_writes() == [(key, 20)]
    # a raised limit grants the difference
    assert state.apply("take_up_to", key, (16, 25)) == 5


def test_restored_total_counts():
    state = QuotaState()
    key = quota_key(1, D1)
    state.restore(key, 9)
    assert state.apply("take_up_to", key, (16, 10)) == 1


def test_days_before_yesterday_are_forgotten_after_the_batch():
    state = QuotaState()
    old, yesterday, today = quota_key(1, D1), quota_key(1, D2), quota_key(1, D3)
    for key in (old, yesterday):
        state.restore(key, None)
        state.apply("take_up_to", key, (1, 5))
    state.take_writes()
    state.restore(today, None)
    # still loaded while the batch that saw the new day applies its ops
    assert state.loaded(old)
    state.apply("take_up_to", old, (1, 5))
    writes = dict(state.take_writes())
    assert writes[old] == 2  # its write is handed out before it is forgotten
    assert not state.loaded(old)
    assert state.loaded(yesterday) and state.loaded(today)


def test_an_older_day_does_not_evict_newer_ones():
    state = QuotaState()
    state.restore(quota_key(1, D3), None)
    state.restore(quota_key(2, D1), None)
    state.take_writes()
    assert state.loaded(quota_key(1, D3))
