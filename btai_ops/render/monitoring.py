"""Prometheus alert rules and a Grafana dashboard, written only with metrics the app exports
(`app/monitoring/metrics.py`; prometheus-client adds `_total`, `_bucket`, `_sum`, `_count`)."""

from __future__ import annotations

import re
from typing import Any

from btai_ops.render.schema import RenderConfig

# Words of PromQL that are not metric names.
PROMQL_WORDS = frozenset(
    """sum min max avg count stddev stdvar topk bottomk quantile count_values group by without
    on ignoring group_left group_right bool and or unless offset rate irate increase delta idelta
    deriv histogram_quantile clamp_min clamp_max clamp abs ceil floor round absent absent_over_time
    avg_over_time max_over_time min_over_time sum_over_time count_over_time last_over_time vector
    scalar time label_replace label_join sort sort_desc inf nan""".split()  # noqa: SIM905
)


def _sel(config: RenderConfig, extra: str = "") -> str:
    labels = f'job="{config.name}",namespace="{config.namespace}"'
    return "{" + labels + (f",{extra}" if extra else "") + "}"


def queue_depth(selector: str) -> str:
    """The queue's depth once, however many pods report it.

    The queue is shared state: every pod exports the whole queue's depth, so a sum over pods
    counts it once per pod (three pods with 40 waiting would read 120). `max` over the pods
    of each (queue, priority) series reads 40 at any replica count."""
    return f"max by (queue, priority) (queue_depth{selector})"


def alert_rules(config: RenderConfig, readiness_path: str) -> dict[str, Any]:
    a = config.monitoring.alerts
    w = config.monitoring.rate_window
    every, errors = _sel(config), _sel(config, 'status=~"5.."')
    not_ready = _sel(config, f'route="{readiness_path}",status!~"2.."')
    rules = [
        (
            "BtaiHighErrorRate",
            f"sum(rate(http_requests_total{errors}[{w}]))\n"
            f"  / sum(rate(http_requests_total{every}[{w}])) > {a.error_ratio}",
            "page",
            f"More than {a.error_ratio:.1%} of requests fail with a 5xx over {w}",
        ),
        (
            "BtaiHighLatencyP99",
            "histogram_quantile(0.99,\n"
            f"  sum by (le) (rate(http_request_duration_seconds_bucket{every}[{w}]))\n"
            f") > {a.p99_latency_seconds}",
            "page",
            f"p99 latency is above {a.p99_latency_seconds:g}s over {w}",
        ),
        (
            "BtaiNotReady",
            f"sum(rate(http_requests_total{not_ready}[{w}])) > 0",
            "page",
            "Readiness probes fail: some pods receive no traffic",
        ),
        (
            "BtaiQueueBacklog",
            f"sum({queue_depth(every)}) > {a.queue_depth}",
            "warning",
            f"More than {a.queue_depth} queue tasks are waiting",
        ),
        (
            "BtaiRateLimitRejections",
            f"sum(rate(rate_limit_rejections_total{every}[{w}]))"
            f" > {a.rate_limit_rejections_per_second}",
            "warning",
            f"The rate limiter refuses more than {a.rate_limit_rejections_per_second:g} requests/s",
        ),
    ]
    return {
        "groups": [
            {
                "name": f"{config.name}.rules",
                "rules": [
                    {
                        "alert": name,
                        "expr": expr + "\n",
                        "for": a.for_duration,
                        "labels": {"severity": severity, "service": config.name},
                        "annotations": {"summary": summary},
                    }
                    for name, expr, severity, summary in rules
                ],
            }
        ]
    }


def _panel(pid: int, title: str, unit: str, targets: list[tuple[str, str]], x: int, y: int) -> Any:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(config: RenderConfig) -> dict[str, Any]:
    w = config.monitoring.rate_window
    every, errors, hits = (
        _sel(config),
        _sel(config, 'status=~"5.."'),
        _sel(config, 'result="hit"'),
    )
    latency = f"sum by (le) (rate(http_request_duration_seconds_bucket{every}[{w}]))"
    specs: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("Request rate", "reqps", [(f"sum(rate(http_requests_total{every}[{w}]))", "requests/s")]),
        (
            "Latency percentiles",
            "s",
            [
                (f"histogram_quantile({q}, {latency})", f"p{round(q * 100)}")
                for q in (0.5, 0.95, 0.99)
            ],
        ),
        (
            "Errors by route",
            "reqps",
            [(f"sum by (route) (rate(http_requests_total{errors}[{w}]))", "{{route}}")],
        ),
        (
            "CPU",
            "percentunit",
            [(f"sum by (pod) (rate(process_cpu_seconds_total{every}[{w}]))", "{{pod}}")],
        ),
        (
            "Memory",
            "bytes",
            [(f"sum by (pod) (process_resident_memory_bytes{every})", "{{pod}}")],
        ),
        (
            "Database pool in use",
            "short",
            [(f"sum by (pod) (db_pool_connections_in_use{every})", "{{pod}}")],
        ),
        (
            "Cache hit ratio",
            "percentunit",
            [
                (
                    f"sum(rate(cache_requests_total{hits}[{w}]))\n"
                    f"  / sum(rate(cache_requests_total{every}[{w}]))",
                    "hit ratio",
                )
            ],
        ),
        (
            "Active trade analyses",
            "short",
            [(f"sum(trade_analyses_running{every})", "running")],
        ),
        (
            "Queue processing rate",
            "ops",
            [(f"sum by (outcome) (rate(queue_tasks_total{every}[{w}]))", "{{outcome}}")],
        ),
        ("Queue depth", "short", [(f"sum by (queue) ({queue_depth(every)})", "{{queue}}")]),
    ]
    panels = [
        _panel(i + 1, title, unit, targets, x=(i % 2) * 12, y=(i // 2) * 8)
        for i, (title, unit, targets) in enumerate(specs)
    ]
    return {
        "uid": config.monitoring.dashboard_uid,
        "title": config.monitoring.dashboard_title,
        "tags": ["btai", config.namespace],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Data source",
                }
            ]
        },
        "panels": panels,
    }


def expressions(rules: dict[str, Any], board: dict[str, Any]) -> list[str]:
    found = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    found += [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers, groupings, durations and
    function names removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        word = match.group(0)
        following = text[match.end() :].lstrip()[:1]
        if word in PROMQL_WORDS or following == "(":
            continue
        names.add(word)
    return names
