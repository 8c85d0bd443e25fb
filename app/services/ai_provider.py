"""The analysis writer: the local valuation model, or an OpenAI-compatible chat API.

With AI_PROVIDER=openai every call goes through one pooled `httpx.AsyncClient` and a
`CircuitBreaker`. A failed call, a timeout, or an open circuit falls back to the local writer,
and the result says so (`fallback_reason`), so an analysis always completes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.monitoring.metrics import AI_CALLS, AI_TOKENS
from app.services.circuit_breaker import CircuitBreaker, CircuitOpenError
from app.settings import Settings

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("app.ai")

SYSTEM_PROMPT = (
    "You are a baseball front-office analyst. You receive a JSON object with a team's request "
    "and the trade proposals a valuation model produced (surplus values in dollars, projected "
    'WAR, grades). Reply with a JSON object {"narrative": string} of at most 200 words that '
    "explains the best proposals to the general manager. Do not invent players or numbers."
)
MAX_COMPLETION_TOKENS = 600
MAX_CONNECTIONS = 20
MAX_KEEPALIVE_CONNECTIONS = 10


class ProviderError(Exception):
    """The provider answered with an error or with something that is not a usable analysis."""


@dataclass(frozen=True, slots=True)
class AIResult:
    narrative: str
    provider: str
    """Who wrote the narrative: `openai` or `local`."""
    fallback_reason: str | None = None
    model: str | None = None
    tokens: dict[str, int] = field(default_factory=dict)
    cost: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "fallback_reason": self.fallback_reason,
            "model": self.model,
            "tokens": self.tokens,
            "cost": self.cost,
        }


class AIProvider:
    """Writes analysis narratives; `local` unless AI_PROVIDER=openai and the circuit allows."""

    def __init__(
        self,
        settings: Settings,
        *,
        breaker: CircuitBreaker | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.kind = settings.AI_PROVIDER
        self.model = settings.AI_MODEL
        self.base_url = (settings.AI_BASE_URL or "https://api.openai.com/v1").rstrip("/")
        self.breaker = breaker or CircuitBreaker(
            "ai_provider",
            failure_threshold=settings.AI_BREAKER_FAILURES,
            cooldown=settings.AI_BREAKER_COOLDOWN,
        )
        headers = {"Content-Type": "application/json"}
        if settings.AI_API_KEY is not None:
            headers["Authorization"] = f"Bearer {settings.AI_API_KEY.get_secret_value()}"
        self._client = client
        if self._client is None and self.kind == "openai":
            # httpx (~6 MB a worker) is loaded only when a remote provider is configured.
            import httpx

            limits = httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
            )
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(settings.AI_TIMEOUT), limits=limits, headers=headers
            )

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[AIProvider]:
        provider = cls(settings)
        try:
            yield provider
        finally:
            await provider.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def status(self) -> dict[str, Any]:
        """For health checks: which provider, and the breaker's state."""
        return {"provider": self.kind, "model": self.model, "breaker": self.breaker.snapshot()}

    async def write(self, facts: Mapping[str, Any], local_narrative: str) -> AIResult:
        """A narrative for `facts`: from the provider when configured and reachable."""
        if self.kind == "local" or self._client is None:
            AI_CALLS.labels("local", "success").inc()
            return AIResult(narrative=local_narrative, provider="local")
        import httpx

        try:
            result = await self.breaker.call(lambda: self._complete(facts))
        except CircuitOpenError as exc:
            AI_CALLS.labels(self.kind, "short_circuit").inc()
            reason = f"AI provider circuit open ({exc}); written by the local model"
            return AIResult(narrative=local_narrative, provider="local", fallback_reason=reason)
        except (httpx.HTTPError, ProviderError) as exc:
            AI_CALLS.labels(self.kind, "failure").inc()
            logger.warning("AI provider call failed: %s", _describe(exc))
            reason = f"AI provider failed ({_describe(exc)}); written by the local model"
            return AIResult(narrative=local_narrative, provider="local", fallback_reason=reason)
        AI_CALLS.labels(self.kind, "success").inc()
        return result

    async def _complete(self, facts: Mapping[str, Any]) -> AIResult:
        assert self._client is not None
        payload = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": json.dumps(facts, default=str)},
            ],
            "response_format": {"type": "json_object"},
            "max_tokens": MAX_COMPLETION_TOKENS,
            "temperature": 0.2,
        }
        response = await self._client.post(f"{self.base_url}/chat/completions", json=payload)
        if response.status_code >= 400:
            raise ProviderError(f"HTTP {response.status_code}")
        body, narrative = _narrative_of(response)
        usage = body.get("usage") or {}
        tokens = _tokens_of(usage)
        for kind, count in tokens.items():
            AI_TOKENS.labels(kind).inc(count)
        cost = usage.get("cost")
        return AIResult(
            narrative=narrative,
            provider=self.kind,
            model=str(body.get("model") or self.model),
            tokens=tokens,
            cost=float(cost) if isinstance(cost, int | float) else None,
        )


def _narrative_of(response: httpx.Response) -> tuple[dict[str, Any], str]:
    """The completion's body and the narrative in its JSON content; ProviderError if unusable."""
    try:
        body = response.json()
        content = body["choices"][0]["message"]["content"]
        narrative = json.loads(content)["narrative"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProviderError(f"unusable response: {type(exc).__name__}") from exc
    if not isinstance(narrative, str) or not narrative.strip():
        raise ProviderError("empty narrative")
    return body, narrative.strip()


# Token counts the completion's `usage` reports, by the name the metric labels them with.
USAGE_TOKENS = (("prompt", "prompt_tokens"), ("completion", "completion_tokens"))


def _tokens_of(usage: Mapping[str, Any]) -> dict[str, int]:
    return {kind: int(usage[key]) for kind, key in USAGE_TOKENS if isinstance(usage.get(key), int)}


def _describe(exc: BaseException) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return str(exc) or type(exc).__name__
