"""Comparison output: a rich table, markdown for a pull request, JSON, and offline HTML."""

from __future__ import annotations

import html
import math
from typing import Any

from rich.table import Table
from rich.text import Text

from btai_ops.loadstats.compare import MetricSet, Row
from btai_ops.loadstats.histogram import Histogram

STYLES = {"regressed": "bold red", "improved": "green", "unchanged": "", "not significant": "dim"}
STYLES["not measured"] = "dim"


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{text} {unit}".rstrip()


def _change(row: Row) -> str:
    if row.change is None:
        return "—"
    if row.tolerance.absolute:
        return f"{row.change:+.4f}"
    return "∞" if math.isinf(row.change) else f"{row.change * 100:+.1f}%"


def _p(row: Row) -> str:
    return "—" if row.p_value is None else f"{row.p_value:.3g}"


def table(rows: list[Row], current: MetricSet, baseline: MetricSet) -> Table:
    out = Table(title=f"{current.source}  vs  {baseline.source}", title_justify="left")
    for name in ("metric", "baseline", "current", "change", "p-value", "tolerance", "verdict"):
        out.add_column(name, justify="left" if name in ("metric", "verdict") else "right")
    for row in rows:
        d = row.to_dict()
        out.add_row(
            row.label,
            _num(row.baseline, row.unit),
            _num(row.current, row.unit),
            _change(row),
            _p(row),
            d["tolerance"],
            Text(row.verdict, STYLES.get(row.verdict, "")),
        )
    return out


def notes(rows: list[Row]) -> list[str]:
    found = sorted({r.note for r in rows if r.note})
    return found


def markdown(rows: list[Row], current: MetricSet, baseline: MetricSet) -> str:
    icons = {"regressed": "🔴", "improved": "🟢", "unchanged": "⚪", "not significant": "⚪"}
    lines = [
        f"### Benchmark: `{current.source}` vs `{baseline.source}`",
        "",
        "| metric | baseline | current | change | p-value | tolerance | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row.label} | {_num(row.baseline, row.unit)} | {_num(row.current, row.unit)} "
            f"| {_change(row)} | {_p(row)} | {row.to_dict()['tolerance']} "
            f"| {icons.get(row.verdict, '')} {row.verdict} |"
        )
    regressed = [r.label for r in rows if r.verdict == "regressed"]
    lines += ["", f"**Regressed:** {', '.join(regressed)}" if regressed else "**No regression.**"]
    lines += [f"_{n}_" for n in notes(rows)]
    return "\n".join(lines) + "\n"


def as_json(rows: list[Row], current: MetricSet, baseline: MetricSet) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "kind": "btai.comparison",
        "current": current.source,
        "baseline": baseline.source,
        "regressed": any(r.verdict == "regressed" for r in rows),
        "metrics": [r.to_dict() for r in rows],
    }


def _cdf_svg(title: str, series: list[tuple[str, str, Histogram]]) -> str:
    """Latency distribution: percentile (y) against latency on a log axis (x)."""
    width, height, pad = 640, 300, 48
    values = [v for _, _, h in series for v, _ in h.weighted_values() if v > 0]
    if not values:
        return ""
    lo, hi = math.log10(min(values)), math.log10(max(values))
    hi = hi if hi > lo else lo + 1

    def x(v: float) -> float:
        return pad + (math.log10(max(v, 10**lo)) - lo) / (hi - lo) * (width - 2 * pad)

    def y(q: float) -> float:
        return height - pad - q * (height - 2 * pad)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    parts.append(f'<text x="{pad}" y="20" font-weight="bold">{html.escape(title)}</text>')
    parts.append(
        f'<line x1="{pad}" y1="{y(0)}" x2="{width - pad}" y2="{y(0)}" stroke="#888"/>'
        f'<line x1="{pad}" y1="{y(0)}" x2="{pad}" y2="{y(1)}" stroke="#888"/>'
    )
    for decade in range(math.floor(lo), math.ceil(hi) + 1):
        if lo <= decade <= hi:
            parts.append(
                f'<text x="{x(10**decade):.1f}" y="{height - pad + 16}" font-size="11" '
                f'text-anchor="middle">{10**decade:g} ms</text>'
            )
    for q in (0.5, 0.9, 0.99):
        parts.append(
            f'<text x="{pad - 6}" y="{y(q) + 4:.1f}" font-size="11" text-anchor="end">'
            f"p{q * 100:g}</text>"
        )
    for i, (label, color, hist) in enumerate(series):
        seen, points = 0, []
        for value, n in hist.weighted_values():
            seen += n
            points.append(f"{x(value):.1f},{y(seen / hist.count):.1f}")
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(points)}"/>'
            f'<text x="{width - pad}" y="{height - pad - 10 - 14 * i}" fill="{color}" '
            f'font-size="12" text-anchor="end">{html.escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars_svg(rows: list[Row]) -> str:
    rows = [r for r in rows if r.baseline is not None and r.current is not None]
    bar, gap, label_w, width = 12, 10, 260, 640
    height = len(rows) * (2 * bar + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    colors = {"regressed": "#c0392b", "improved": "#27ae60"}
    for i, row in enumerate(rows):
        top = 20 + i * (2 * bar + gap)
        scale = max(abs(row.baseline or 0), abs(row.current or 0)) or 1.0
        for j, (value, color) in enumerate(
            (
                (row.baseline or 0.0, "#95a5a6"),
                (row.current or 0.0, colors.get(row.verdict, "#2980b9")),
            )
        ):
            w = abs(value) / scale * (width - label_w - 90)
            parts.append(
                f'<rect x="{label_w}" y="{top + j * bar}" width="{w:.1f}" height="{bar - 1}" '
                f'fill="{color}"/><text x="{label_w + w + 4:.1f}" y="{top + j * bar + bar - 2}" '
                f'font-size="10">{html.escape(_num(value, row.unit))}</text>'
            )
        parts.append(
            f'<text x="0" y="{top + bar + 4}" font-size="12">{html.escape(row.label)} '
            f"({html.escape(row.verdict)})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def html_report(rows: list[Row], current: MetricSet, baseline: MetricSet) -> str:
    """One self-contained page: no script, no stylesheet, no font fetched from anywhere."""
    charts = [
        _cdf_svg(
            f"{scenario}: latency distribution",
            [
                ("baseline", "#7f8c8d", baseline.latencies[scenario]),
                ("current", "#2980b9", hist),
            ]
            if scenario in baseline.latencies
            else [("current", "#2980b9", hist)],
        )
        for scenario, hist in current.latencies.items()
        if hist.count
    ]
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(c))}</td>"
            for c in (
                r.label, _num(r.baseline, r.unit), _num(r.current, r.unit), _change(r), _p(r),
                r.to_dict()["tolerance"], r.verdict,
            )
        )
        + "</tr>"
        for r in rows
    )  # fmt: skip
    head = "".join(
        f"<th>{h}</th>"
        for h in ("metric", "baseline", "current", "change", "p-value", "tolerance", "verdict")
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>btai benchmark comparison"
        "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>"
        f"<h1>Benchmark comparison</h1><p>current: {html.escape(current.source)}<br>"
        f"baseline: {html.escape(baseline.source)}</p><table><tr>{head}</tr>{cells}</table>"
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes(rows))
        + "<h2>Before and after</h2>"
        + _bars_svg(rows)
        + "<h2>Latency distributions</h2>"
        + "".join(f"<div>{c}</div>" for c in charts)
        + "</body></html>\n"
    )
