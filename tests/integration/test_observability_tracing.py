"""OpenTelemetry export to a real OTLP/HTTP receiver on loopback; nothing when unset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.db.migrate import upgrade
from app.main import create_app
from app.settings import Settings
from tests.support.observability import Receiver

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def exported_spans(receiver: Receiver) -> list[Any]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    spans = []
    for path, body in receiver.raw:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    return spans


def attributes(span: Any) -> dict[str, Any]:
    return {a.key: a.value.string_value or a.value.int_value for a in span.attributes}


async def test_spans_are_exported_except_health_and_metrics(
    make_settings: Callable[..., Settings],
) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the `otel` extra is not installed")
    with Receiver().running() as receiver:
        endpoint = receiver.url.removesuffix("/hook")
        app = create_app(
            make_settings(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, HEALTH_MONITOR_INTERVAL=0)
        )
        await upgrade(app.state.parts.settings.database_url)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                await client.get("/api/v1/health/liveness")
                await client.get("/metrics")
                traced = await client.get(
                    "/api/v1/system/metrics",
                    headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
                )
        # Leaving the lifespan flushed the batch to the receiver.
        spans = exported_spans(receiver)
    routes = {attributes(s).get("http.route") for s in spans}
    assert "/api/v1/system/metrics" in routes
    assert not {r for r in routes if r and (r.startswith("/api/v1/health") or r == "/metrics")}
    [server_span] = [
        s for s in spans if attributes(s).get("http.route") == "/api/v1/system/metrics"
    ]
    assert server_span.trace_id.hex() == TRACE_ID
    # Logs and the response header name the exported span.
    assert traced.headers["traceparent"].split("-")[2] == server_span.span_id.hex()


async def test_nothing_is_set_up_without_an_endpoint(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    assert app.state.parts.tracer_provider is None
