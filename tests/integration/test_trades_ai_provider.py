"""The circuit breaker and the AI provider against a real OpenAI-compatible stub server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.services.ai_provider import AIProvider
from app.services.circuit_breaker import CircuitBreaker, CircuitOpenError, CircuitState
from app.settings import Settings
from tests.support.ai_stub import AIStub
from tests.support.metrics import sample

FACTS = {"team": "NYA", "proposals": []}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _fail() -> None:
    raise RuntimeError("down")


async def _ok() -> str:
    return "ok"


async def test_breaker_opens_after_threshold_and_half_open_trial_closes_it() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("unit", failure_threshold=3, cooldown=10, clock=clock)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            await breaker.call(_fail)
    assert breaker.state is CircuitState.OPEN
    assert sample("circuit_breaker_state", name="unit") == 2
    with pytest.raises(CircuitOpenError):
        await breaker.call(_ok)
    clock.now += 10
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()  # the one trial
    assert not breaker.allow()  # nobody else while it runs
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    assert await breaker.call(_ok) == "ok"


async def test_failed_half_open_trial_reopens_for_another_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("unit2", failure_threshold=1, cooldown=5, clock=clock)
    with pytest.raises(RuntimeError):
        await breaker.call(_fail)
    clock.now += 5
    with pytest.raises(RuntimeError):
        await breaker.call(_fail)
    assert breaker.state is CircuitState.OPEN
    clock.now += 4.9
    assert breaker.state is CircuitState.OPEN
    clock.now += 0.1
    assert await breaker.call(_ok) == "ok"
    assert breaker.state is CircuitState.CLOSED


def _settings(make_settings: Callable[..., Settings], base_url: str, **extra: object) -> Settings:
    return make_settings(
        AI_PROVIDER="openai", AI_BASE_URL=base_url, AI_API_KEY="sk-test", AI_TIMEOUT=0.5,
        AI_BREAKER_FAILURES=2, AI_BREAKER_COOLDOWN=30, **extra,
    )  # fmt: skip


async def test_provider_answer_records_tokens_and_cost(
    make_settings: Callable[..., Settings],
) -> None:
    with AIStub("answer") as stub:
        async with AIProvider.open(_settings(make_settings, stub.base_url)) as provider:
            result = await provider.write(FACTS, "local text")
    assert result.provider == "openai"
    assert result.narrative == "Stub analysis #1."
    assert result.tokens == {"prompt": 100, "completion": 20}
    assert result.cost == pytest.approx(0.0003)
    sent = stub.requests[0]
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"][0]["role"] == "system"


async def test_failures_open_breaker_fall_back_to_local_then_half_open_closes(
    make_settings: Callable[..., Settings],
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("ai_test", failure_threshold=2, cooldown=30, clock=clock)
    with AIStub("fail") as stub:
        settings = _settings(make_settings, stub.base_url)
        provider = AIProvider(settings, breaker=breaker)
        try:
            first = await provider.write(FACTS, "local text")
            assert first.provider == "local"
            assert "failed" in (first.fallback_reason or "")
            await provider.write(FACTS, "local text")
            assert breaker.state is CircuitState.OPEN
            calls = stub.calls
            short = await provider.write(FACTS, "local text")
            assert short.narrative == "local text"
            assert "circuit open" in (short.fallback_reason or "")
            assert stub.calls == calls  # no call reached the provider while open
            stub.mode = "answer"
            clock.now += 30
            trial = await provider.write(FACTS, "local text")
            assert trial.provider == "openai"
            assert breaker.state is CircuitState.CLOSED
        finally:
            await provider.aclose()


async def test_hanging_provider_times_out_and_falls_back(
    make_settings: Callable[..., Settings],
) -> None:
    with AIStub("hang") as stub:
        async with AIProvider.open(_settings(make_settings, stub.base_url)) as provider:
            result = await provider.write(FACTS, "local text")
            assert result.provider == "local"
            assert "timed out" in (result.fallback_reason or "")
            assert provider.breaker.failures == 1


async def test_local_provider_never_calls_out(make_settings: Callable[..., Settings]) -> None:
    async with AIProvider.open(make_settings()) as provider:
        result = await provider.write(FACTS, "local text")
    assert result.provider == "local"
    assert result.fallback_reason is None
    assert provider.status()["provider"] == "local"
