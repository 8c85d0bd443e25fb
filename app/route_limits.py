"""Rate limits as configured: a limit (requests per window plus a burst) and the per-route
rules of RATE_LIMIT_ROUTES with their parser.

A leaf module (standard library only): `app.settings` validates RATE_LIMIT_ROUTES with it and
`app.security.ratelimit` enforces what it parses, so neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Limit:
    requests: int
    window: int
    burst: int = 0

    # Read on every rate-limited request: worked out once per limit.
    @cached_property
    def capacity(self) -> int:
        return self.requests + self.burst

    @cached_property
    def interval_ms(self) -> float:
        return self.window * 1000 / self.requests

    def policy(self) -> str:
        return f"{self.requests};w={self.window};burst={self.burst}"


RULE_RE = re.compile(
    r"^(?:(?P<method>[A-Z]+)\s+)?(?P<prefix>/\S*)\s*=\s*(?P<requests>\d+)/(?P<window>\d+)"
    r"(?:/(?P<burst>\d+))?$"
)


@dataclass(frozen=True)
class RouteLimit:
    name: str
    method: str | None
    prefix: str
    limit: Limit

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.prefix)


def parse_route_limits(rules: Iterable[str]) -> list[RouteLimit]:
    """`[METHOD ]/path-prefix=REQUESTS/WINDOW[/BURST]`, e.g. `POST /api/v1/auth/login=10/60/0`."""
    parsed = []
    for rule in rules:
        match = RULE_RE.match(rule.strip())
        if match is None or int(match["requests"]) < 1 or int(match["window"]) < 1:
            raise ValueError(
                f"RATE_LIMIT_ROUTES entry {rule!r} is not "
                "`[METHOD ]/prefix=REQUESTS/WINDOW[/BURST]`"
            )
        method = match["method"]
        name = f"{method} {match['prefix']}" if method else match["prefix"]
        limit = Limit(int(match["requests"]), int(match["window"]), int(match["burst"] or 0))
        parsed.append(RouteLimit(name, method, match["prefix"], limit))
    # The longest prefix wins, so specific rules can sit beside general ones.
    return sorted(parsed, key=lambda r: (len(r.prefix), r.method is not None), reverse=True)
