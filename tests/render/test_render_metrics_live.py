"""Every metric the rendered alert rules and dashboards read is served by the running app."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from btai_ops.render.monitoring import metric_names
from tests.render.conftest import ENVIRONMENTS, GOLDEN
from tests.support.server import run_server

SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "gauge": ("",),
    "untyped": ("",),
}


def rendered_expressions() -> list[str]:
    exprs = []
    for env in ENVIRONMENTS:
        rules = yaml.safe_load((GOLDEN / env / "monitoring/alerts.yaml").read_text())
        exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
        board = json.loads((GOLDEN / env / "monitoring/dashboard.json").read_text())
        exprs += [target["expr"] for panel in board["panels"] for target in panel["targets"]]
    return exprs


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, route) ("
        'rate(http_request_duration_seconds_bucket{job="btai",status=~"5.."}[5m])))'
        " / on (route) group_left sum(queue_depth) > 0.5"
    )
    assert metric_names(expr) == {"http_request_duration_seconds_bucket", "queue_depth"}


@pytest.mark.slow
def test_rendered_alerts_and_dashboards_name_only_served_metrics(tmp_path: Path) -> None:
    wanted = {name for expr in rendered_expressions() for name in metric_names(expr)}
    assert {"http_requests_total", "http_request_duration_seconds_bucket", "queue_depth"} <= wanted
    with run_server(tmp_path) as server:
        for path in ("/api/v1/health/liveness", "/api/v1/health/readiness", "/metrics"):
            httpx.get(server.base_url + path, timeout=10)
        response = httpx.get(server.base_url + "/metrics", timeout=10)
    assert response.status_code == 200
    served = set()
    for family in text_string_to_metric_families(response.text):
        served.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        served.update(sample.name for sample in family.samples)
    missing = sorted(wanted - served)
    assert not missing, f"not on /metrics: {missing}"
    # The readiness alert selects the probe's route template and a 3-digit status.
    labels = [
        sample.labels
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "http_requests_total"
    ]
    assert {"method": "GET", "route": "/api/v1/health/readiness", "status": "200"} in labels
