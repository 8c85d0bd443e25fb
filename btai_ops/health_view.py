"""What `btai health` makes of the probes' answers: one status, the checks, the alerts.

Probes whose route answers 404 (a server without readiness or a full report) are shown as
"not available" and do not count towards the status.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from btai_ops.output import status_style

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

EXIT_CODES = {"pass": 0, "warn": 1, "fail": 2}
RANK = {"pass": 0, "warn": 1, "fail": 2}
UNAVAILABLE = "not available"


@dataclass(frozen=True)
class ProbeResult:
    name: str
    status: str  # pass, warn, fail or "not available"
    http_status: int | None
    latency_ms: float | None


@dataclass(frozen=True)
class CheckRow:
    name: str
    status: str
    latency_ms: float | None
    message: str


@dataclass
class HealthView:
    url: str
    status: str
    ready: bool
    probes: list[ProbeResult]
    checks: list[CheckRow] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exit_code"] = self.exit_code
        data["probes"] = {
            p.name: {k: v for k, v in asdict(p).items() if k != "name"} for p in self.probes
        }
        return data


def _probe_status(name: str, answer: dict[str, Any]) -> str:
    code = answer["http_status"]
    body = answer.get("body") or {}
    if code == 404 and name != "liveness":
        return UNAVAILABLE
    reported = str(body.get("status", "")).lower()
    if reported in RANK and (200 <= code < 300 or code == 503):
        return "fail" if code == 503 and reported == "pass" else reported
    return "pass" if 200 <= code < 300 else "fail"


def _rows(checks: Any) -> list[CheckRow]:
    if not isinstance(checks, dict):
        return []
    return [
        _check_row(name, entry)
        for name, entries in checks.items()
        for entry in (entries if isinstance(entries, list) else [entries])
        if isinstance(entry, dict)
    ]


def _check_row(name: str, entry: dict[str, Any]) -> CheckRow:
    label = name if not entry.get("componentId") else f"{name} [{entry['componentId']}]"
    message = entry.get("output") or entry.get("message") or ""
    if not message and entry.get("observedValue") is not None:
        unit = entry.get("observedUnit") or ""
        message = f"{entry['observedValue']} {unit}".strip()
    latency = entry.get("durationMs", entry.get("latency_ms"))
    return CheckRow(
        name=label,
        status=str(entry.get("status", "fail")).lower(),
        latency_ms=float(latency) if isinstance(latency, int | float) else None,
        message=str(message),
    )


def build_view(url: str, answers: dict[str, Any], *, scope: str = "full") -> HealthView:
    """Combine the answers of the liveness, readiness and report probes into one view.

    `scope="readiness"` judges by readiness alone (what `--wait-ready` waits for): a warning
    of the full report, such as a busy CPU, does not fail a deploy that is ready.
    """
    probes = [_probe(name, answers[name]) for name in ("liveness", "readiness", "report")]
    by_name = {p.name: p for p in probes}
    readiness = by_name["readiness"]
    # Without a readiness route, liveness says whether the service is ready.
    gate = by_name["liveness"] if readiness.status == UNAVAILABLE else readiness
    if scope == "readiness":
        counted = [by_name["liveness"].status, gate.status]
    else:
        counted = [p.status for p in probes if p.status != UNAVAILABLE]
    report = _body(answers, by_name, "report")
    checks = _rows(_checks_source(report, _body(answers, by_name, "readiness"), scope))
    return HealthView(
        url=url,
        status=_worst([*counted, *(c.status for c in checks)]),
        ready=_answered_2xx(gate),
        probes=probes,
        checks=checks,
        alerts=[a for a in answers.get("alerts", []) if isinstance(a, dict)],
        report=report,
    )


def _checks_source(
    report: dict[str, Any] | None, ready_body: dict[str, Any] | None, scope: str
) -> Any:
    """The checks shown: readiness's when judging readiness, else the full report's."""
    source = ready_body if scope == "readiness" else (report or ready_body)
    return (source or {}).get("checks")


def _probe(name: str, answer: dict[str, Any]) -> ProbeResult:
    return ProbeResult(
        name, _probe_status(name, answer), answer["http_status"], answer["latency_ms"]
    )


def _answered_2xx(probe: ProbeResult) -> bool:
    return probe.http_status is not None and 200 <= probe.http_status < 300


def _body(
    answers: dict[str, Any], probes: dict[str, ProbeResult], name: str
) -> dict[str, Any] | None:
    """What probe `name` answered, unless its route is not available."""
    return answers[name].get("body") if probes[name].status != UNAVAILABLE else None


def _worst(statuses: list[str]) -> str:
    """The worst status of probes and checks; an unknown check status counts as fail, and
    with nothing counted at all the verdict is fail."""
    ranks = [RANK.get(status, RANK["fail"]) for status in statuses]
    worst = max(ranks, default=RANK["fail"])
    return next(status for status, rank in RANK.items() if rank == worst)


def failing_checks(view: HealthView) -> list[str]:
    """One line per failing check (or probe, when no check explains it)."""
    lines = [
        f"failing check {row.name}: {row.message or 'no message'}"
        for row in view.checks
        if row.status == "fail"
    ]
    if not lines:
        lines = [
            f"failing probe {p.name}: HTTP {p.http_status}"
            for p in view.probes
            if p.status == "fail"
        ]
    return lines


def _latency(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} ms"


def view_renderable(view: HealthView) -> RenderableType:
    """The probes line, the checks table and the alerts beneath, as one rich renderable."""
    from rich.console import Group

    parts: list[RenderableType] = [_headline(view)]
    # One line per probe: the three do not fit 80 columns side by side.
    parts.extend(_probe_line(probe) for probe in view.probes)
    parts.append(_checks_table(view.checks))
    if view.alerts:
        parts.append(_alerts_table(view.alerts))
    return Group(*parts)


def _headline(view: HealthView) -> Text:
    from rich.text import Text

    headline = Text(f"{view.url}  ")
    headline.append(view.status.upper(), style=f"bold {status_style(view.status)}")
    headline.append("  (ready)" if view.ready else "  (not ready)")
    return headline


def _probe_line(probe: ProbeResult) -> Text:
    from rich.text import Text

    code = f"HTTP {probe.http_status}" if probe.http_status is not None else "in-process"
    line = Text(f"  {probe.name + ':':<11}")
    line.append(probe.status, style=status_style(probe.status))
    latency = f", {_latency(probe.latency_ms)}" if probe.latency_ms is not None else ""
    line.append(f" ({code}{latency})")
    return line


def _checks_table(checks: list[CheckRow]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table("check", "status", "latency", "message", title="checks", title_justify="left")
    for row in checks:
        table.add_row(
            row.name,
            Text(row.status, style=status_style(row.status)),
            _latency(row.latency_ms),
            row.message,
        )
    if not checks:
        table.add_row("(none reported)", "", "", "")
    return table


def _alerts_table(alerts: list[dict[str, Any]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table("severity", "check", "state", "message", title="alerts", title_justify="left")
    for alert in alerts:
        severity = str(alert.get("severity", ""))
        table.add_row(
            Text(severity, style="red" if severity == "critical" else "yellow"),
            str(alert.get("check") or alert.get("name") or alert.get("id") or ""),
            str(alert.get("state") or alert.get("status") or ""),
            str(alert.get("message") or alert.get("summary") or ""),
        )
    return table


def render_view(view: HealthView, console: Console) -> None:
    console.print(view_renderable(view))
