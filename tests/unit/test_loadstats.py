"""Latency histograms, thresholds and recordings of `btai loadtest`."""

from __future__ import annotations

import math
import random

import pytest

from btai_ops.loadstats.bootstrap import (
    mean_difference,
    percentile_difference,
    proportion_difference,
)
from btai_ops.loadstats.histogram import PERCENTILES, Histogram
from btai_ops.loadstats.recorder import Recording
from btai_ops.loadstats.summary import build_summary, exit_code, finish
from btai_ops.loadstats.thresholds import (
    ThresholdSyntaxError,
    evaluate,
    inapplicable,
    parse_threshold,
    with_default_fail_ratio,
)


def nearest_rank(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_histogram_percentiles_match_raw_samples_within_one_percent(seed: int) -> None:
    rng = random.Random(seed)
    samples = [rng.lognormvariate(0.5, 1.2) for _ in range(20_000)]
    samples += [rng.uniform(900, 1100) for _ in range(50)]  # a stall's tail
    hist = Histogram.of(samples)
    for _, q in PERCENTILES:
        exact = nearest_rank(samples, q)
        assert hist.percentile(q) == pytest.approx(exact, rel=0.01)
    assert hist.percentile(99.9) <= hist.max_ms == max(samples)
    assert hist.percentile(100) == max(samples)
    assert hist.min_ms == min(samples)


def test_percentile_never_exceeds_max_with_few_samples() -> None:
    hist = Histogram.of([1.0, 1.004, 1.0049])
    assert hist.percentile(99) <= 1.0049
    assert hist.percentile(50) >= 1.0


def test_histograms_merge_like_their_samples_and_survive_serialisation() -> None:
    rng = random.Random(7)
    a = [rng.expovariate(1 / 5) for _ in range(3000)]
    b = [rng.expovariate(1 / 50) for _ in range(3000)]
    merged = Histogram.of(a).merge(Histogram.from_dict(Histogram.of(b).to_dict()))
    both = Histogram.of(a + b)
    assert merged.counts == both.counts
    assert merged.percentile(95) == both.percentile(95)
    assert merged.count == 6000


def test_corrupt_histogram_is_rejected() -> None:
    data = Histogram.of([1.0, 2.0]).to_dict()
    data["count"] = 5
    with pytest.raises(ValueError, match="add up"):
        Histogram.from_dict(data)


def test_recording_counts_late_scheduled_sends_and_corrects_latency() -> None:
    recording = Recording()
    recording.record(
        method="GET", name="/a", response_ms=2.0, error=None, start_time=100.5, scheduled=100.0
    )
    recording.record(
        method="GET", name="/a", response_ms=2.0, error="boom", start_time=101.0, scheduled=101.0
    )
    stats = Recording.from_dict(recording.to_dict()).endpoints["/a"]
    assert (stats.requests, stats.failures, stats.late) == (2, 1, 1)
    assert stats.corrected.max_ms == pytest.approx(502.0)
    assert stats.service.max_ms == 2.0
    assert (stats.service.count, stats.failed.count, stats.reasons) == (1, 1, {"boom": 1})


def test_failed_requests_keep_their_latency_apart_and_answers_after_the_cutoff_count_nowhere() -> (
    None
):
    recording = Recording(cutoff=110.0)
    for i in range(100):
        recording.record(
            method="GET", name="/a", response_ms=5.0, error=None, start_time=100.0 + i * 0.05,
            scheduled=None,
        )  # fmt: skip
    for _ in range(10):
        recording.record(
            method="GET", name="/a", response_ms=0.5, error="HTTP 404", start_time=101.0,
            scheduled=None,
        )  # fmt: skip
    recording.record(
        method="GET", name="/a", response_ms=900.0, error=None, start_time=109.5, scheduled=None
    )  # answered at 110.4, after the stop: its teardown-inflated latency is left out
    merged = Recording().merge(Recording.from_dict(recording.to_dict()))
    summary = build_summary(merged, config={"rate": None}, generator={})
    total = summary["total"]
    assert (total["requests"], total["failures"], summary["in_flight_excluded"]) == (110, 10, 1)
    assert total["latency_ms"]["max"] == 5.0
    assert total["failed_latency_ms"]["max"] == 0.5
    assert summary["failures"] == [
        {"endpoint": "/a", "method": "GET", "reason": "HTTP 404", "count": 10}
    ]
    assert summary["span_s"] == pytest.approx(4.955)  # 100.0 .. 104.95 + 5 ms


def test_default_fail_ratio_fails_a_run_with_more_than_one_percent_failures() -> None:
    recording = Recording()
    for i in range(100):
        recording.record(
            method="GET", name="/a", response_ms=1.0, error="HTTP 429" if i < 2 else None,
            start_time=100.0 + i / 100, scheduled=None,
        )  # fmt: skip
    summary = build_summary(recording, config={"rate": None}, generator={})
    rules = with_default_fail_ratio([parse_threshold("p95<1s")])
    finish(summary, evaluate(rules, summary))
    assert (summary["passed"], exit_code(summary)) == (False, 1)
    assert "2.00% of requests failed" in summary["verdict_reasons"][0]
    own = with_default_fail_ratio([parse_threshold("fail_ratio<5%")])
    assert [t.expression for t in own] == ["fail_ratio<5%"]  # the user's rule replaces it


def test_a_lagging_generator_loop_makes_the_run_invalid_whatever_its_cpu() -> None:
    recording = Recording()
    for i in range(100):
        recording.record(
            method="GET", name="/a", response_ms=10.0, error=None, start_time=100.0 + i / 100,
            scheduled=None,
        )  # fmt: skip
    for _ in range(50):
        recording.loop_lag.record(0.2)
    assert build_summary(recording, config={}, generator={"max_cpu_percent": 11})["valid"]
    for _ in range(100):
        recording.loop_lag.record(4.0)  # median 4 ms against a 10 ms median latency
    summary = build_summary(recording, config={}, generator={"max_cpu_percent": 11})
    assert summary["valid"] is False
    assert "median event-loop lag" in summary["invalid_reasons"][0]


def test_thresholds_the_run_cannot_have_are_named() -> None:
    corrected = [parse_threshold("corrected_p99<1s")]
    assert "needs --rate" in (inapplicable(corrected, rate_mode=False, endpoints=None) or "")
    assert inapplicable(corrected, rate_mode=True, endpoints=None) is None
    named = [parse_threshold("name:/b p95<1s")]
    assert "'/b'" in (inapplicable(named, rate_mode=False, endpoints={"/a"}) or "")
    assert inapplicable(named, rate_mode=False, endpoints=None) is None


@pytest.mark.parametrize(
    ("expression", "metric", "op", "limit", "endpoint"),
    [
        ("p95<50ms", "p95", "<", 50.0, None),
        ("p99<=0.2s", "p99", "<=", 200.0, None),
        ("p99.9 < 1500us", "p99.9", "<", 1.5, None),
        ("fail_ratio<0.01", "fail_ratio", "<", 0.01, None),
        ("fail_ratio<1%", "fail_ratio", "<", 0.01, None),
        ("rps>1000", "rps", ">", 1000.0, None),
        ("name:/api/v1/teams p95<20ms", "p95", "<", 20.0, "/api/v1/teams"),
        ("corrected_p95<100", "corrected_p95", "<", 100.0, None),
    ],
)
def test_thresholds_parse(
    expression: str, metric: str, op: str, limit: float, endpoint: str | None
) -> None:
    parsed = parse_threshold(expression)
    assert (parsed.metric, parsed.op, parsed.endpoint) == (metric, op, endpoint)
    assert parsed.limit == pytest.approx(limit)


@pytest.mark.parametrize(
    "expression", ["p95 50ms", "p96<5ms", "rps>10ms", "p95<5%", "p95<fast", "name: p95<1", ""]
)
def test_bad_thresholds_name_the_problem(expression: str) -> None:
    with pytest.raises(ThresholdSyntaxError) as info:
        parse_threshold(expression)
    assert info.value.expression == expression


def test_thresholds_evaluate_against_a_summary_and_missing_values_fail() -> None:
    summary = {
        "total": {"rps": 1200.0, "fail_ratio": 0.0, "latency_ms": {"p95": 30.0}},
        "endpoints": {"/api/v1/teams": {"latency_ms": {"p95": 25.0}, "corrected_ms": None}},
    }
    rules = [
        parse_threshold(e)
        for e in (
            "p95<50ms",
            "rps>1000",
            "name:/api/v1/teams p95<20ms",
            "name:/nope p95<20ms",
            "corrected_p95<1s",
        )
    ]
    results = evaluate(rules, summary)
    assert [r["passed"] for r in results] == [True, True, False, False, False]
    assert results[2]["value"] == 25.0
    assert results[3]["value"] is None


def test_bootstrap_finds_a_tail_that_moved_while_the_median_did_not() -> None:
    rng = random.Random(5)
    steady = Histogram.of(rng.lognormvariate(1, 0.3) for _ in range(20_000))
    # every 50th request 200 ms slower: p99 moves, p50 does not
    tail = Histogram.of(
        rng.lognormvariate(1, 0.3) + (200 if i % 50 == 0 else 0) for i in range(20_000)
    )
    cur, base = list(tail.weighted_values()), list(steady.weighted_values())
    p99 = percentile_difference(cur, base, 99, margin=1.0)
    assert p99.p_value < 0.01
    assert p99.beyond(1.0)
    assert 150 < p99.low <= p99.observed <= p99.high < 250
    p50 = percentile_difference(cur, base, 50, margin=1.0)
    assert not p50.beyond(1.0)
    assert p50.p_value == 1.0


def test_bootstrap_percentile_replicates_follow_real_resampling() -> None:
    # The beta shortcut against resampling the values themselves: same spread of p90.
    rng = random.Random(9)
    values = sorted(rng.expovariate(1 / 10) for _ in range(400))
    grouped = [(v, 1) for v in values]
    shortcut = percentile_difference(grouped, [(0.0, 1)], 90, alpha=0.1, replicates=4000)
    direct = sorted(nearest_rank(rng.choices(values, k=len(values)), 90) for _ in range(4000))
    assert shortcut.low == pytest.approx(direct[200], rel=0.05)
    assert shortcut.high == pytest.approx(direct[3799], rel=0.05)


def test_the_same_samples_differ_by_nothing_with_p_1() -> None:
    hist = Histogram.of(random.Random(2).lognormvariate(0, 1) for _ in range(3000))
    same = percentile_difference(list(hist.weighted_values()), list(hist.weighted_values()), 99)
    assert (same.observed, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert mean_difference([100.0, 101.0, 99.0], [99.0, 100.0, 101.0]).p_value == 1.0


def test_fail_ratio_difference_is_a_two_proportion_test() -> None:
    assert proportion_difference((0, 0), (1000, 1000)).p_value == 1.0
    worse = proportion_difference((60, 10), (2000, 2000))
    assert worse.p_value < 1e-6
    assert worse.low > 0
    assert proportion_difference((11, 10), (2000, 2000)).p_value > 0.5


def _summary(cpu: float, rules: list[str]) -> dict[str, object]:
    recording = Recording(started_at=100.0, ended_at=102.0)
    for i in range(200):
        recording.record(
            method="GET", name="/a", response_ms=1.0 + i / 100, error=None,
            start_time=100.0 + i / 100, scheduled=None,
        )  # fmt: skip
    summary = build_summary(
        recording, config={"scenario": "simple", "rate": None}, generator={"max_cpu_percent": cpu}
    )
    return finish(summary, evaluate([parse_threshold(r) for r in rules], summary))


def test_busy_generator_makes_the_run_invalid_and_exit_2() -> None:
    summary = _summary(97.0, ["p95<1s"])
    assert summary["valid"] is False
    assert "97% CPU" in summary["invalid_reasons"][0]
    assert exit_code(summary) == 2


def test_exit_codes_follow_the_thresholds_of_a_valid_run() -> None:
    passing = _summary(40.0, ["p95<1s", "rps>50"])
    assert (passing["valid"], passing["passed"], exit_code(passing)) == (True, True, 0)
    # 200 requests from the first send (100.0) to the last answer (101.99 + 2.99 ms)
    assert passing["span_s"] == pytest.approx(1.993, abs=1e-3)
    assert passing["total"]["rps"] == pytest.approx(200 / 1.99299, rel=1e-4)  # type: ignore[index]
    failing = _summary(40.0, ["p95<1s", "rps>500"])
    assert (failing["passed"], exit_code(failing)) == (False, 1)
