"""What `btai serve` decided, handed to the uvicorn or granian runner."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

# The factory each worker calls: it reads the settings `btai serve` left in the environment.
APP_FACTORY = "app.server.factory:create_worker_app"
PROXIED_APP_FACTORY = "app.server.factory:create_proxied_worker_app"


@dataclass(frozen=True)
class ServeOptions:
    """Process-level options; application settings travel through the environment."""

    host: str
    port: int
    workers: int = 1
    graceful_timeout: float = 30.0
    limit_concurrency: int | None = None
    backlog: int = 2048
    reload: bool = False
    trusted_proxies: list[str] = field(default_factory=list)
    log_level: str = "info"
    metrics_dir: Path | None = None

    @property
    def graceful_seconds(self) -> int:
        """The servers take whole seconds; never round a grace period down."""
        return math.ceil(self.graceful_timeout)
