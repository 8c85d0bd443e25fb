"""The concurrent-users search and the server figures beside it: loopback, /metrics."""

from __future__ import annotations

from typing import Any

from btai_ops.loadstats.capacity import UsersSearch, search_users


def server_slowing_by_users(ms_per_user: float) -> Any:
    """A server whose p95 grows by `ms_per_user` for every user: the search's only input."""

    def measure(users: int) -> dict[str, Any]:
        p95 = users * ms_per_user
        return {"users": users, "p95_ms": p95, "valid": True, "held": p95 <= 100.0}

    return measure


def test_search_finds_the_most_users_within_a_tenth() -> None:
    found = search_users(UsersSearch(100.0, 10_000, 1.0), server_slowing_by_users(1.0))
    assert 90 <= found["users"] <= 100  # 100 users make p95 exactly 100 ms
    assert found["stopped_by"] == "objective"
    assert len(found["steps"]) <= 8


def test_search_stops_at_its_user_bound() -> None:
    found = search_users(UsersSearch(100.0, 50, 1.0), server_slowing_by_users(0.01))
    assert found["users"] == 50
    assert found["stopped_by"] == "max_users"
    assert [s["users"] for s in found["steps"]] == [10, 20, 40, 50]


def test_search_stops_at_its_step_bound() -> None:
    search = UsersSearch(100.0, 10**9, 1.0, max_steps=3)
    found = search_users(search, server_slowing_by_users(0.001))
    assert [s["users"] for s in found["steps"]] == [10, 20, 40]
    assert found["stopped_by"] == "max_steps"


def test_a_saturated_generator_ends_the_search_with_what_held() -> None:
    def measure(users: int) -> dict[str, Any]:
        return {"users": users, "p95_ms": 1.0, "valid": users < 40, "held": users < 40}

    found = search_users(UsersSearch(100.0, 1000, 1.0), measure)
    assert found["users"] == 20
    assert found["stopped_by"] == "load generator saturated"


def test_only_this_machine_counts_as_loopback() -> None:
    from btai_ops.loadstats.server_usage import is_loopback

    for url in ("http://127.0.0.1:8000", "http://localhost", "http://[::1]:80", "http://127.9.9.9"):
        assert is_loopback(url), url
    for url in ("http://10.0.0.5:8000", "https://example.com", "http://0.0.0.0:8000"):
        assert not is_loopback(url), url


def test_process_figures_are_read_from_a_prometheus_exposition() -> None:
    from btai_ops.loadstats.server_usage import prometheus_values

    text = (
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
        "# TYPE process_cpu_seconds_total counter\n"
        "process_cpu_seconds_total 12.5\n"
        'http_requests_total{method="GET"} 3.0\n'
        "process_resident_memory_bytes 1.048576e+08\n"
    )
    wanted = ("process_cpu_seconds_total", "process_resident_memory_bytes")
    assert prometheus_values(text, wanted) == {
        "process_cpu_seconds_total": 12.5,
        "process_resident_memory_bytes": 104857600.0,
    }
