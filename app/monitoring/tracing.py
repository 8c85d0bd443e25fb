"""OpenTelemetry spans (optional extra `otel`), through FastAPI's own telemetry hooks.

When OTEL_EXPORTER_OTLP_ENDPOINT is set and the `otel` extra (opentelemetry-sdk and the
OTLP/HTTP exporter) is installed, request spans go to `<endpoint>/v1/traces` in batches;
health and metrics routes are left out. Otherwise nothing is set up and requests pay nothing.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from fastapi.telemetry import TelemetryConfig

from app import __version__
from app.settings import Settings

logger = logging.getLogger("app.monitoring.tracing")
UNTRACED_PREFIXES = ("/api/v1/health", "/metrics")
INSTALL_HINT = "pip install 'btai[otel]'"


def untraced(scope: MutableMapping[str, Any]) -> bool:
    """Probes and scrapes would drown the real traffic in spans."""
    path: str = scope.get("path", "")
    return path.startswith(UNTRACED_PREFIXES)


def build_tracer_provider(settings: Settings) -> Any | None:
    """A tracer provider exporting to the OTLP endpoint, or None (not configured/installed)."""
    endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT
    if not endpoint:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed (%s); "
            "spans are not exported",
            INSTALL_HINT,
        )
        return None
    resource = Resource.create(
        {
            "service.name": "btai",
            "service.version": __version__,
            "deployment.environment": settings.ENVIRONMENT.value,
        }
    )
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def telemetry_config(provider: Any | None) -> TelemetryConfig:
    """FastAPI's `telemetry=` argument: spans only, through `provider` when there is one."""
    if provider is None:
        # With no provider of ours, FastAPI's hooks stay idle unless a global one exists.
        return {"tracing": False, "metrics": False, "logs": False}
    return {
        "tracer_provider": provider,
        "tracing": True,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "exclude": untraced,
    }


def shutdown_tracer_provider(provider: Any | None) -> None:
    """Flush spans still queued, then stop the exporter (at the end of the lifespan)."""
    if provider is not None:
        provider.shutdown()
