"""The process's stop deadline: one grace period, begun once, shared by whoever drains."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.services import shutdown


@pytest.fixture(autouse=True)
def fresh_deadline() -> Iterator[None]:
    shutdown.reset()
    yield
    shutdown.reset()


def test_before_a_stop_the_whole_default_remains() -> None:
    assert not shutdown.began()
    assert shutdown.remaining(30.0) == 30.0


def test_remaining_counts_down_from_the_grace_and_never_exceeds_the_default() -> None:
    shutdown.begin(30.0)
    assert shutdown.began()
    left = shutdown.remaining(60.0)
    assert 0.0 < left <= 30.0
    assert shutdown.remaining(5.0) == 5.0


def test_a_spent_grace_leaves_nothing_not_a_negative_wait() -> None:
    shutdown.begin(0.0)
    time.sleep(0.01)
    assert shutdown.remaining(30.0) == 0.0


def test_a_second_signal_keeps_the_first_deadline() -> None:
    shutdown.begin(0.0)
    shutdown.begin(30.0)  # e.g. SIGINT after SIGTERM must not extend the stop
    assert shutdown.remaining(30.0) == 0.0


def test_listeners_hear_the_stop_once_and_can_unsubscribe() -> None:
    heard: list[str] = []
    shutdown.on_begin(lambda: heard.append("first"))
    unsubscribe = shutdown.on_begin(lambda: heard.append("gone"))
    unsubscribe()
    shutdown.begin(10.0)
    shutdown.begin(10.0)
    assert heard == ["first"]


def test_a_listener_added_after_the_stop_hears_it_at_once() -> None:
    shutdown.begin(10.0)
    heard: list[bool] = []
    shutdown.on_begin(lambda: heard.append(True))
    assert heard == [True]


def test_a_failing_listener_does_not_silence_the_others(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[bool] = []

    def broken() -> None:
        raise RuntimeError("loop closed")

    shutdown.on_begin(broken)
    shutdown.on_begin(lambda: heard.append(True))
    shutdown.begin(10.0)
    assert heard == [True]
    assert "shutdown listener failed" in caplog.text
