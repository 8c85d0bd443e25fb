"""The shipped Prometheus rules and Grafana dashboard refer only to metrics the service exports."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from app.main import create_app
from app.settings import Settings
from tests.support.tools import promtool

MONITORING = Path(__file__).resolve().parents[2] / "app" / "monitoring"
RULES = MONITORING / "prometheus" / "rules.yml"
DASHBOARD = MONITORING / "grafana" / "btai-dashboard.json"
PROMQL_WORDS = {"sum", "max", "min", "avg", "rate", "by", "histogram_quantile", "without"}


def rule_groups() -> list[dict[str, object]]:
    groups: list[dict[str, object]] = yaml.safe_load(RULES.read_text())["groups"]
    return groups


def expressions() -> list[str]:
    exprs = [str(r["expr"]) for g in rule_groups() for r in g["rules"]]  # type: ignore[attr-defined]
    dashboard = json.loads(DASHBOARD.read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    return exprs


def series_names(expr: str) -> set[str]:
    """Metric and recording-rule names an expression reads."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\b(by|without)\s*\([^)]*\)", "", text)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", text)
    names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
    return {n for n in names if n not in PROMQL_WORDS}


async def exported_names(settings: Settings) -> set[str]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),  # started as a server starts it: /metrics reads it
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        response = await client.get("/metrics")
        assert response.status_code == 200, response.text
        text = response.text
    names = set()
    for name in re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE):
        base = name.removesuffix("_total")
        names |= {name, base + "_total", name + "_bucket", name + "_sum", name + "_count"}
    return names


async def test_rules_and_dashboard_read_only_exported_metrics(
    make_settings: Callable[..., Settings],
) -> None:
    exported = await exported_names(make_settings())
    recorded = {str(r["record"]) for g in rule_groups() for r in g["rules"] if "record" in r}  # type: ignore[attr-defined]
    used = set().union(*(series_names(e) for e in expressions()))
    assert "http_requests_total" in used
    assert used - exported - recorded == set()


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_failing_health_check_alert_fires_after_two_minutes(tmp_path: Path) -> None:
    cases = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'health_check_status{check="database:responseTime"}',
                     "values": "0 2 2 2 2 2"},
                    {"series": 'http_requests_total{method="GET",route="/x",status="500"}',
                     "values": "0+60x10"},
                    {"series": 'http_requests_total{method="GET",route="/x",status="200"}',
                     "values": "0+60x10"},
                ],
                "alert_rule_test": [
                    {"eval_time": "2m", "alertname": "BtaiHealthCheckFailing", "exp_alerts": []},
                    {
                        "eval_time": "4m",
                        "alertname": "BtaiHealthCheckFailing",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "critical",
                                    "check": "database:responseTime",
                                },
                                "exp_annotations": {
                                    "summary": "health check database:responseTime fails"
                                },
                            }
                        ],
                    },
                    {
                        "eval_time": "10m",
                        "alertname": "BtaiHighErrorRate",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "critical", "route": "/x"},
                                "exp_annotations": {
                                    "summary": "/x answers more than 5% server errors"
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }  # fmt: skip
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(yaml.safe_dump(cases))
    result = subprocess.run(
        [promtool(), "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
