"""What `btai serve` decided, handed to the uvicorn or granian runner."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

# The factory each worker calls: it reads the settings `btai serve` left in the environment.
APP_FACTORY = "app.server.factory:create_worker_app"
PROXIED_APP_FACTORY = "app.server.factory:create_proxied_worker_app"


@dataclass(frozen=True)
class HeadLimits:
    """Request-head limits the servers enforce (HTTP_MAX_* settings)."""

    request_line: int = 4096
    header_bytes: int = 16384
    headers: int = 100

    @property
    def total(self) -> int:
        """The whole head: request line and header fields."""
        return self.request_line + self.header_bytes


@dataclass(frozen=True)
class ServeOptions:
    """Process-level options; application settings travel through the environment."""

    host: str
    port: int
    workers: int = 1
    graceful_timeout: float = 30.0
    worker_healthcheck_timeout: float = 15.0
    """Seconds a worker has to answer the supervisor's ping (uvicorn) before it is replaced."""
    limit_concurrency: int | None = None
    backlog: int = 2048
    reload: bool = False
    trusted_proxies: list[str] = field(default_factory=list)
    log_level: str = "info"
    readable_logs: bool = False
    """Readable log lines (development) instead of JSON lines."""
    metrics_dir: Path | None = None
    head_limits: HeadLimits = field(default_factory=HeadLimits)

    @property
    def graceful_seconds(self) -> int:
        """The servers take whole seconds; never round a grace period down."""
        return math.ceil(self.graceful_timeout)
