"""The rendered alert rules load in Prometheus and fire on the series they are meant for
(`promtool check rules` and `promtool test rules` on synthetic series)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.render.conftest import GOLDEN
from tests.support import tools

SEL = 'job="btai",namespace="btai-production"'
TEAMS = f'{SEL},method="GET",route="/api/v1/teams/{{team_key}}"'
READY = f'{SEL},method="GET",route="/api/v1/health/readiness"'


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [tools.promtool(), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=60)


def test_every_environment_rule_file_loads() -> None:
    for rules in sorted(GOLDEN.glob("*/monitoring/alerts.yaml")):
        result = promtool("check", "rules", str(rules), cwd=rules.parent)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS: 5 rules found" in result.stdout


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses recording rules, so each panel query becomes one.
    for board in sorted(GOLDEN.glob("*/monitoring/dashboard.json")):
        panels = json.loads(board.read_text())["panels"]
        rules = [
            {"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": target["expr"]}
            for panel in panels
            for target in panel["targets"]
        ]
        path = tmp_path / f"{board.parent.parent.name}.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
        result = promtool("check", "rules", str(path), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def _alert(name: str, severity: str, summary: str) -> dict[str, object]:
    return {
        "exp_labels": {"severity": severity, "service": "btai"},
        "exp_annotations": {"summary": summary},
    }


def test_production_alerts_fire_on_bad_series_and_stay_quiet_on_good(tmp_path: Path) -> None:
    shutil.copy(GOLDEN / "production/monitoring/alerts.yaml", tmp_path / "alerts.yaml")
    bad = {
        "interval": "1m",
        "input_series": [
            # 100 good and 5 failing requests a minute: 4.8% errors, above production's 1%.
            {"series": f'http_requests_total{{{TEAMS},status="200"}}', "values": "0+6000x30"},
            {"series": f'http_requests_total{{{TEAMS},status="500"}}', "values": "0+300x30"},
            {"series": f'http_requests_total{{{READY},status="503"}}', "values": "0+12x30"},
            {"series": f'queue_depth{{{SEL},queue="analyses",priority="5"}}', "values": "250x30"},
            {"series": f'rate_limit_rejections_total{{{SEL},scope="ip"}}', "values": "0+600x30"},
        ],
        "alert_rule_test": [
            {
                "eval_time": "20m",
                "alertname": "BtaiHighErrorRate",
                "exp_alerts": [
                    _alert(
                        "BtaiHighErrorRate",
                        "page",
                        "More than 1.0% of requests fail with a 5xx over 5m",
                    )
                ],
            },
            {
                "eval_time": "20m",
                "alertname": "BtaiNotReady",
                "exp_alerts": [
                    _alert(
                        "BtaiNotReady",
                        "page",
                        "Readiness probes fail: some pods receive no traffic",
                    )
                ],
            },
            {
                "eval_time": "20m",
                "alertname": "BtaiQueueBacklog",
                "exp_alerts": [
                    _alert("BtaiQueueBacklog", "warning", "More than 100 queue tasks are waiting")
                ],
            },
            {
                "eval_time": "20m",
                "alertname": "BtaiRateLimitRejections",
                "exp_alerts": [
                    _alert(
                        "BtaiRateLimitRejections",
                        "warning",
                        "The rate limiter refuses more than 5 requests/s",
                    )
                ],
            },
            # `for: 5m` holds a fresh breach back.
            {"eval_time": "3m", "alertname": "BtaiQueueBacklog", "exp_alerts": []},
        ],
    }
    good = {
        "interval": "1m",
        "input_series": [
            {"series": f'http_requests_total{{{TEAMS},status="200"}}', "values": "0+6000x30"},
            {"series": f'http_requests_total{{{READY},status="200"}}', "values": "0+12x30"},
            {"series": f'queue_depth{{{SEL},queue="analyses",priority="5"}}', "values": "3x30"},
        ],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": name, "exp_alerts": []}
            for name in ("BtaiHighErrorRate", "BtaiNotReady", "BtaiQueueBacklog")
        ],
    }
    suite = {"rule_files": ["alerts.yaml"], "evaluation_interval": "1m", "tests": [bad, good]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = promtool("test", "rules", "suite.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _backlog_suite(pods: int, depth: int, pending: bool) -> dict[str, object]:
    """Every pod reports the same depth of the one shared queue, as the app does."""
    series = [
        {
            "series": f'queue_depth{{{SEL},pod="btai-{i}",queue="analyses",priority="5"}}',
            "values": f"{depth}x30",
        }
        for i in range(pods)
    ]
    expected = (
        [_alert("BtaiQueueBacklog", "warning", "More than 100 queue tasks are waiting")]
        if pending
        else []
    )
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": "BtaiQueueBacklog", "exp_alerts": expected}
        ],
    }


@pytest.mark.parametrize("pods", [1, 3, 12])
def test_queue_backlog_counts_the_shared_queue_once_at_any_pod_count(
    tmp_path: Path, pods: int
) -> None:
    shutil.copy(GOLDEN / "production/monitoring/alerts.yaml", tmp_path / "alerts.yaml")
    # 40 waiting, reported by every pod: quiet. 250 waiting: fires, whatever the pod count.
    tests = [_backlog_suite(pods, 40, pending=False), _backlog_suite(pods, 250, pending=True)]
    suite = {"rule_files": ["alerts.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = promtool("test", "rules", "suite.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("pods", [1, 3, 12])
def test_queue_depth_panel_reads_the_shared_depth_once(tmp_path: Path, pods: int) -> None:
    # The panel's query as a recording rule, evaluated by promtool on the same series.
    panels = json.loads((GOLDEN / "production/monitoring/dashboard.json").read_text())["panels"]
    (query,) = [p["targets"][0]["expr"] for p in panels if p["title"] == "Queue depth"]
    rules = {
        "groups": [{"name": "panel", "rules": [{"record": "panel:queue_depth", "expr": query}]}]
    }
    (tmp_path / "panel.yaml").write_text(yaml.safe_dump(rules))
    suite = {
        "rule_files": ["panel.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": _backlog_suite(pods, 40, pending=False)["input_series"],
                "promql_expr_test": [
                    {
                        "expr": "panel:queue_depth",
                        "eval_time": "5m",
                        "exp_samples": [
                            {"labels": 'panel:queue_depth{queue="analyses"}', "value": 40}
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = promtool("test", "rules", "suite.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
