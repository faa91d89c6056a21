"""The bench harness's pure parts: wrk's report, the JSON lines, the registry. No servers, no wrk."""

from __future__ import annotations

import io
import json
import re
import stat
import sys
from pathlib import Path

import pytest

from loadtests.registry import (
    BenchConfig,
    HttpScenario,
    HttpTarget,
    InProcessScenario,
    load_scenarios,
    select,
)
from loadtests.results import actor_hop_line, emit, http_line, ratio
from loadtests.wrk import (
    WrkError,
    WrkReport,
    WrkRun,
    is_generator_bound,
    parse_wrk,
    run_wrk,
    to_ms,
    wrk_command,
)
from tests.loadtests.wrk_outputs import NOT_FOUND, OK_MS, OK_US

HTTP_KEYS = {
    "scenario",
    "ours_rps",
    "baseline_rps",
    "ours_p50_ms",
    "ours_p99_ms",
    "baseline_p50_ms",
    "baseline_p99_ms",
    "ratio",
}


def _run(rps: float, p50: float = 1.0, p99: float = 5.0, cpu_s: float = 1.0, wall_s: float = 10.0) -> WrkRun:
    report = WrkReport(rps=rps, p50_ms=p50, p99_ms=p99, requests=int(rps * wall_s))
    return WrkRun(report=report, wall_s=wall_s, cpu_s=cpu_s)


# --- wrk's report ---------------------------------------------------------------------------


def test_parses_a_millisecond_report():
    report = parse_wrk(OK_MS)
    assert report == WrkReport(rps=7316.36, p50_ms=8.12, p99_ms=25.16, requests=14743)


def test_parses_microsecond_percentiles_into_milliseconds():
    report = parse_wrk(OK_US)
    assert report.p50_ms == pytest.approx(0.262)
    assert report.p99_ms == pytest.approx(2.2)
    assert report.rps == 3126.26


def test_counts_non_2xx_responses():
    assert parse_wrk(NOT_FOUND).non_2xx == 3308
    assert parse_wrk(OK_MS).non_2xx == 0


def test_sums_socket_errors():
    # The line as wrk's format string prints it, inserted where wrk puts it.
    text = OK_MS.replace(
        "  14743 requests in 2.02s, 2.46MB read\n",
        "  14743 requests in 2.02s, 2.46MB read\n  Socket errors: connect 0, read 3, write 0, timeout 12\n",
    )
    assert parse_wrk(text).socket_errors == 15


def test_report_without_latency_distribution_is_refused():
    # what wrk prints without --latency: the percentile lines are absent
    without = "\n".join(line for line in OK_MS.splitlines() if not re.match(r"\s+\d+%", line))
    assert "Requests/sec" in without and "99%" not in without
    with pytest.raises(WrkError, match="--latency"):
        parse_wrk(without)


def test_report_without_throughput_is_refused():
    with pytest.raises(WrkError, match="Requests/sec"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


@pytest.mark.parametrize(
    ("value", "unit", "ms"),
    [("262.00", "us", 0.262), ("8.12", "ms", 8.12), ("1.50", "s", 1500.0), ("2", "m", 120000.0)],
)
def test_time_units(value, unit, ms):
    assert to_ms(value, unit) == pytest.approx(ms)


def test_generator_bound_is_cpu_share_of_its_core():
    assert is_generator_bound(cpu_s=9.5, wall_s=10.0)
    assert not is_generator_bound(cpu_s=2.0, wall_s=10.0)
    assert not is_generator_bound(cpu_s=0.0, wall_s=0.0)
    assert _run(1000, cpu_s=9.8).generator_bound


def test_wrk_command_pins_one_thread_to_its_core():
    cmd = wrk_command(
        "http://127.0.0.1:9/x", connections=64, duration_s=3, headers={"Authorization": "Bearer t"}, core=1
    )
    assert cmd[:3] == ["taskset", "-c", "1"]
    assert cmd[3:] == ["wrk", "-t1", "-c64", "-d3s", "--latency", "-H", "Authorization: Bearer t", "http://127.0.0.1:9/x"]
    assert wrk_command("http://127.0.0.1:9/", connections=8, duration_s=1)[0] == "wrk"


def test_run_wrk_reads_the_report_and_the_childs_cpu(tmp_path: Path):
    # A stand-in that prints a real report: exercises the subprocess + wait4 path without wrk.
    fake = tmp_path / "fake-wrk"
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({OK_MS!r})\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    run = run_wrk([str(fake)])
    assert run.report.rps == 7316.36
    assert run.wall_s > 0 and run.cpu_s > 0
    assert 0 < run.cpu_share <= 1.5


def test_run_wrk_fails_on_nonzero_exit(tmp_path: Path):
    fake = tmp_path / "fake-wrk"
    fake.write_text("#!/bin/sh\necho 'unable to connect to 127.0.0.1:1 Connection refused'\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(WrkError, match="exited with 1"):
        run_wrk([str(fake)])


# --- the JSON lines -------------------------------------------------------------------------


def test_http_line_shape_and_ratio_of_best_runs():
    line = http_line(
        "ping",
        ours=[_run(3000, 12.0, 40.0), _run(3600, 10.0, 30.0)],
        baseline=[_run(4800, 8.0, 20.0), _run(4500, 9.0, 25.0)],
    )
    assert set(line) == HTTP_KEYS
    assert line["scenario"] == "ping"
    assert (line["ours_rps"], line["baseline_rps"]) == (3600.0, 4800.0)
    # latencies come from the same (best) run as its throughput
    assert (line["ours_p50_ms"], line["ours_p99_ms"]) == (10.0, 30.0)
    assert (line["baseline_p50_ms"], line["baseline_p99_ms"]) == (8.0, 20.0)
    assert line["ratio"] == 0.75


def test_http_line_flags_a_generator_bound_run():
    line = http_line("ping", ours=[_run(3000)], baseline=[_run(9000, cpu_s=9.7)])
    assert line["generator_bound"] is True
    assert set(line) == HTTP_KEYS | {"generator_bound"}


def test_actor_hop_line_amortizes_and_divides_naive_by_batched():
    line = actor_hop_line(
        concurrency=64, rounds=10, batched_s=0.0064, naive_s=0.128, actor_calls_batched=10, actor_calls_naive=640
    )
    assert line == {
        "scenario": "actor_hop",
        "concurrency": 64,
        "batched_us_per_req": 10.0,
        "naive_us_per_req": 200.0,
        "ratio": 20.0,
        "rounds": 10,
        "actor_calls_batched": 10,
        "actor_calls_naive": 640,
    }


def test_ratio_needs_a_positive_denominator():
    assert ratio(1, 3) == 0.333
    with pytest.raises(ValueError):
        ratio(1, 0)


def test_emit_writes_one_json_object_per_line():
    out = io.StringIO()
    emit({"scenario": "a", "ratio": 1.0}, out)
    emit({"scenario": "b", "ratio": 0.5}, out)
    lines = out.getvalue().splitlines()
    assert [json.loads(line)["scenario"] for line in lines] == ["a", "b"]


# --- registry and configuration ---------------------------------------------------------------


def test_registry_has_the_first_scenarios():
    registry = load_scenarios()
    assert isinstance(registry["ping"], HttpScenario)
    assert isinstance(registry["actor_hop"], InProcessScenario)


def test_select_runs_in_process_scenarios_first_and_refuses_unknown_names():
    registry = load_scenarios()
    assert [s.name for s in select(["ping", "actor_hop"], registry)] == ["actor_hop", "ping"]
    assert {s.name for s in select([], registry)} == set(registry)
    with pytest.raises(KeyError, match="nope"):
        select(["nope"], registry)


def test_target_placeholders_are_filled_from_setup_values():
    target = HttpTarget("/api/pets/{pet_id}", headers={"Authorization": "Bearer {token}"})
    resolved = target.resolve({"pet_id": 7, "token": "abc"})
    assert resolved == HttpTarget("/api/pets/7", headers={"Authorization": "Bearer abc"})


def test_quick_mode_shortens_every_run():
    full, quick = BenchConfig.from_env({}), BenchConfig.from_env({"BENCH_QUICK": "1"})
    assert not full.quick and quick.quick
    assert quick.wrk_duration_s <= 5 and quick.rounds == 1 and quick.hop_rounds < full.hop_rounds
    assert full.concurrency == 64
    assert BenchConfig.from_env({}, concurrency=16).concurrency == 16
    assert not BenchConfig.from_env({"BENCH_QUICK": "0"}).quick
