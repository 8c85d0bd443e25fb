"""Alert hysteresis, trends and cgroup-aware resource readings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.monitoring.alerts import AlertManager
from app.monitoring.checks import (
    CheckOutcome,
    CheckRegistry,
    CheckResult,
    HealthCheck,
    Status,
)
from app.monitoring.system import SystemSampler
from app.monitoring.window import RequestWindow, percentile


async def _noop() -> CheckResult:
    return CheckResult(Status.PASS)


CHECK = HealthCheck("cache:responseTime", _noop)


def outcome(status: Status, output: str | None = None) -> CheckOutcome:
    return CheckOutcome(CHECK, CheckResult(status, output=output), 1.0, datetime.now(UTC))


def feed(manager: AlertManager, *statuses: Status) -> None:
    for status in statuses:
        manager.observe([outcome(status)])


def test_flapping_check_raises_one_alert_that_stays_open() -> None:
    events: list[str] = []
    manager = AlertManager(resolve_after=2, notify=lambda kind, _a: events.append(kind))
    feed(manager, *[Status.WARN, Status.PASS] * 5)
    assert events == ["raised"]
    assert [a.state for a in manager.alerts()] == ["active"]


def test_alert_resolves_after_consecutive_passes_and_escalates_in_place() -> None:
    events: list[tuple[str, str]] = []
    manager = AlertManager(resolve_after=2, notify=lambda k, a: events.append((k, a.severity)))
    feed(manager, Status.WARN, Status.FAIL, Status.FAIL, Status.PASS, Status.PASS, Status.PASS)
    assert events == [("raised", "warning"), ("escalated", "critical"), ("resolved", "critical")]
    [alert] = manager.alerts()
    assert alert.state == "resolved"
    assert alert.resolved_at is not None
    feed(manager, Status.FAIL)
    assert [a.state for a in manager.alerts()] == ["active", "resolved"]


def test_raise_after_waits_for_consecutive_failures() -> None:
    manager = AlertManager(raise_after=3)
    feed(manager, Status.FAIL, Status.FAIL, Status.PASS, Status.FAIL, Status.FAIL)
    assert manager.alerts() == []
    feed(manager, Status.FAIL)
    assert len(manager.alerts("active")) == 1


def test_acknowledging_twice_keeps_the_first_record() -> None:
    manager = AlertManager()
    feed(manager, Status.FAIL)
    [alert] = manager.alerts()
    first = manager.acknowledge(alert.id, "ops")
    assert first is not None
    stamp = first.acknowledged_at
    again = manager.acknowledge(alert.id, "someone-else")
    assert again is not None
    assert (again.acknowledged_at, again.acknowledged_by) == (stamp, "ops")
    assert manager.acknowledge("unknown", "ops") is None


def test_check_names_must_be_component_measurement() -> None:
    with pytest.raises(ValueError, match="component:measurement"):
        CheckRegistry().add(HealthCheck("nocolon", _noop))


def test_cgroup_v2_limits_are_used(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    (tmp_path / "memory.max").write_text(str(1024 * 1024 * 1024))
    (tmp_path / "memory.current").write_text(str(256 * 1024 * 1024))
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    (tmp_path / "cpu.stat").write_text("usage_usec 1000\nuser_usec 600\n")
    sampler = SystemSampler(tmp_path)
    memory = sampler.memory()
    assert (memory.percent, memory.source, memory.limit) == (25.0, "cgroup", 1024**3)
    assert sampler.cpu_limit() == 1.5
    assert sampler.cpu().source == "cgroup"


def test_cgroup_v1_without_limits_falls_back_to_the_host(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (tmp_path / "memory" / "memory.usage_in_bytes").write_text("1000\n")
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    sampler = SystemSampler(tmp_path)
    assert sampler.memory().source == "host"
    assert sampler.cpu_limit() is None
    assert 0 <= sampler.cpu().percent <= 100


def test_cgroup_v1_quota_is_read(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert SystemSampler(tmp_path).cpu_limit() == 0.5


def test_window_forgets_requests_older_than_a_minute() -> None:
    now = [1000.0]
    window = RequestWindow(clock=lambda: now[0])
    for ms in range(1, 101):
        window.record("GET", "/a", ms / 1000)
    now[0] += 30
    window.record("GET", "/a", 0.5)
    [row] = window.snapshot()
    assert row["requests"] == 101
    assert row["p50_ms"] == 51.0
    assert row["max_ms"] == 500.0
    now[0] += 45  # the first hundred are now more than a minute old
    [row] = window.snapshot()
    assert row["requests"] == 1
    assert row["rps"] == pytest.approx(1 / 60, abs=1e-3)


def test_percentile_is_never_above_the_largest_sample() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 99) == 10.0
    assert percentile(values, 50) == 5.0
    assert percentile([], 99) == 0.0
