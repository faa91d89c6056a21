"""003's AI rules without Ray or a database: prompt cleaning, the row's state machine, the gate."""

from __future__ import annotations

import pytest

from domain import ai
from domain.ai import AiStatus
from domain.ai_gate import BreakerState, GateConfig, Outcome, ProviderGate


def test_control_characters_are_stripped_and_line_breaks_kept():
    assert ai.clean_text("  he\x00l\x07lo\x1b[31m\r\nwor\x7fld\u0085\t! ") == "hello[31m\nworld\t!"


def test_bidi_overrides_go_but_joiners_stay():
    assert ai.clean_text("a\u202eb\u200bc") == "abc"
    assert ai.clean_text("👩\u200d💻") == "👩\u200d💻"


def test_a_prompt_of_only_control_characters_is_empty():
    assert ai.clean_text("\x00\x01\x02 \x1f") == ""


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (AiStatus.PENDING, AiStatus.RUNNING, True),
        (AiStatus.PENDING, AiStatus.FAILED, True),
        (AiStatus.PENDING, AiStatus.FINISHED, False),
        (AiStatus.RUNNING, AiStatus.FINISHED, True),
        (AiStatus.RUNNING, AiStatus.FAILED, True),
        (AiStatus.RUNNING, AiStatus.PENDING, True),
        (AiStatus.RUNNING, AiStatus.RUNNING, True),
        (AiStatus.FINISHED, AiStatus.RUNNING, False),
        (AiStatus.FINISHED, AiStatus.FAILED, False),
        (AiStatus.FAILED, AiStatus.RUNNING, False),
        (AiStatus.FAILED, AiStatus.FINISHED, False),
    ],
)
def test_transitions(current, target, allowed):
    assert ai.can_move(current, target) is allowed
    if not allowed:
        with pytest.raises(ai.IllegalTransition):
            ai.check_move(current, target)


def test_final_states_are_never_a_source():
    for target in AiStatus:
        assert "finished" not in ai.sources_of(target)
        assert "failed" not in ai.sources_of(target)
    assert ai.sources_of(AiStatus.RUNNING) == ["pending", "running"]


def test_a_job_given_up_on_shows_its_row_as_failed():
    assert ai.effective_status("running", "failed") is AiStatus.FAILED
    assert ai.effective_status("pending", "failed") is AiStatus.FAILED
    assert ai.effective_status("finished", "failed") is AiStatus.FINISHED
    assert ai.effective_status("running", "running") is AiStatus.RUNNING
    assert ai.effective_status("pending", None) is AiStatus.PENDING


def test_tokens_in_either_dialect():
    assert ai.tokens_used({"usage": {"total_tokens": 9}}) == 9
    assert ai.tokens_used({"usage": {"prompt_tokens": 2, "completion_tokens": 3}}) == 5
    assert ai.tokens_used({"tokens": 4}) == 4
    assert ai.tokens_used({"output": "x"}) is None
    assert ai.tokens_used(["not", "an", "object"]) is None


def test_the_prompt_of_a_chat_is_its_last_user_turn():
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "sure"},
    ]
    assert ai.prompt_of(messages) == "second"
    assert ai.prompt_of([{"role": "system", "content": "only"}]) == "only"


# -- the gate -------------------------------------------------------------------------------


def gate(**config) -> ProviderGate:
    return ProviderGate(GateConfig(**({"limit": 2, "lease_s": 10.0, "threshold": 3, "cooldown_s": 5.0} | config)))


def test_the_cap_queues_the_third_caller_until_a_permit_comes_back():
    g = gate()
    assert g.try_enter("a", 0.0) == ("ok", 0.0)
    assert g.try_enter("b", 0.0) == ("ok", 0.0)
    assert g.try_enter("c", 0.0) == ("full", 0.0)
    g.leave("a", Outcome.SUCCESS, 1.0)
    assert g.try_enter("c", 1.0) == ("ok", 0.0)
    assert g.peak == 2


def test_a_holder_entering_again_renews_instead_of_taking_a_second_permit():
    g = gate()
    g.try_enter("a", 0.0)
    g.try_enter("a", 1.0)
    assert g.snapshot(1.0)["in_use"] == 1


def test_a_dead_holders_permit_lapses_with_its_lease():
    g = gate(limit=1)
    g.try_enter("dead", 0.0)
    assert g.try_enter("b", 9.9) == ("full", 0.0)
    assert g.try_enter("b", 10.0) == ("ok", 0.0)


def test_the_breaker_opens_after_consecutive_failures_and_fails_fast():
    g = gate()
    for i in range(3):
        g.try_enter(f"h{i}", 0.0)
        g.leave(f"h{i}", Outcome.FAILURE, 1.0)
    assert g.state is BreakerState.OPEN
    verdict, retry_after = g.try_enter("x", 2.0)
    assert verdict == "open"
    assert retry_after == pytest.approx(4.0)


def test_a_success_between_failures_resets_the_count_and_429s_say_nothing():
    g = gate()
    for outcome in (Outcome.FAILURE, Outcome.FAILURE, Outcome.SUCCESS, Outcome.FAILURE, Outcome.NEUTRAL):
        g.try_enter("h", 0.0)
        g.leave("h", outcome, 0.0)
    assert g.state is BreakerState.CLOSED
    assert g.failures == 1


def test_half_open_lets_one_probe_through_and_its_outcome_decides():
    g = gate(threshold=1)
    g.try_enter("h", 0.0)
    g.leave("h", Outcome.FAILURE, 0.0)
    assert g.try_enter("probe", 5.0) == ("ok", 0.0)
    assert g.state is BreakerState.HALF_OPEN
    assert g.try_enter("other", 5.0)[0] == "open"
    g.leave("probe", Outcome.FAILURE, 6.0)
    assert g.state is BreakerState.OPEN
    assert g.try_enter("probe2", 11.0) == ("ok", 0.0)
    g.leave("probe2", Outcome.SUCCESS, 11.5)
    assert g.state is BreakerState.CLOSED
    assert g.try_enter("other", 11.5) == ("ok", 0.0)


def test_a_probe_that_dies_does_not_keep_the_breaker_half_open_forever():
    g = gate(threshold=1, lease_s=2.0)
    g.try_enter("h", 0.0)
    g.leave("h", Outcome.FAILURE, 0.0)
    g.try_enter("probe", 5.0)
    assert g.try_enter("other", 6.0)[0] == "open"
    assert g.try_enter("other", 7.5) == ("ok", 0.0)
