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
STYLES["invalid run"] = "bold yellow"
STYLES["not comparable"] = "dim"


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{text} {unit}".rstrip()


def _current(row: Row) -> str:
    return _num(row.current, row.current_unit or row.unit)


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
            _current(row),
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
            f"| {row.label} | {_num(row.baseline, row.unit)} | {_current(row)} "
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


COLORS = {"baseline": "#7f8c8d", "current": "#1f6fb2", "reference": "#d35400"}
COLORS["before"] = "#b9c2c8"
_SPECTRUM = (50.0, 90.0, 99.0, 99.9, 99.99)


def _spectrum_svg(title: str, series: list[tuple[str, str, Histogram]]) -> str:
    """Latency (log axis, y) at each percentile (x, spaced by 1/(1 - q) so tails show)."""
    width, height, left, right, top, bottom = 1200, 380, 90, 170, 40, 60
    series = [(label, color, h) for label, color, h in series if h.count]
    if not series:
        return ""
    top_q = max(q for q in _SPECTRUM if all(h.count * (1 - q / 100) >= 1 for _, _, h in series))
    qs = [q for q in _SPECTRUM if q <= top_q]
    values = [h.percentile(q) for _, _, h in series for q in qs] + [h.min_ms for _, _, h in series]
    lo = math.floor(math.log10(max(min(values), 1e-3)))
    hi = math.ceil(math.log10(max(max(values), 10**lo * 1.01)))
    hi = max(hi, lo + 1)
    span_x = math.log10(1 / (1 - top_q / 100)) - math.log10(2)

    def x(q: float) -> float:
        return left + (math.log10(1 / (1 - q / 100)) - math.log10(2)) / span_x * (
            width - left - right
        )

    def y(v: float) -> float:
        frac = (math.log10(max(v, 10**lo)) - lo) / (hi - lo)
        return height - bottom - frac * (height - top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="24" font-size="18" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="#999"/>',
    ]
    for decade in range(lo, hi + 1):
        for m in (1, 2, 5):
            v = m * 10.0**decade
            if 10**lo <= v <= 10**hi:
                weight = "#ccc" if m == 1 else "#eee"
                parts.append(
                    f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                    f'stroke="{weight}"/><text x="{left - 8}" y="{y(v) + 5:.1f}" '
                    f'font-size="14" text-anchor="end">{v:g}</text>'
                )
    for q in qs:
        parts.append(
            f'<line x1="{x(q):.1f}" x2="{x(q):.1f}" y1="{top}" y2="{height - bottom}" '
            f'stroke="#eee"/><text x="{x(q):.1f}" y="{height - bottom + 20}" font-size="14" '
            f'text-anchor="middle">p{q:g}</text>'
        )
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 12}" font-size="15" '
        'text-anchor="middle">percentile (successful requests)</text>'
        f'<text transform="translate(22 {(top + height - bottom) / 2}) rotate(-90)" '
        'font-size="15" text-anchor="middle">latency (ms, log scale)</text>'
    )
    for i, (label, color, hist) in enumerate(series):
        points = " ".join(f"{x(q):.1f},{y(hist.percentile(q)):.1f}" for q in qs)
        dash = ' stroke-dasharray="8 5"' if label.startswith("reference") else ""
        parts.append(
            f'<polyline class="series" fill="none" stroke="{color}" stroke-width="3"{dash} '
            f'points="{points}"/>'
            + "".join(
                f'<circle cx="{x(q):.1f}" cy="{y(hist.percentile(q)):.1f}" r="4" fill="{color}"/>'
                for q in qs
            )
            + f'<rect x="{width - right + 16}" y="{top + 8 + 24 * i}" width="18" height="4" '
            f'fill="{color}"/><text x="{width - right + 40}" y="{top + 14 + 24 * i}" '
            f'font-size="15">{html.escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars_svg(rows: list[Row], current: MetricSet, baseline: MetricSet) -> str:
    """Per row: the report's "before" (when the baseline is the report), the baseline, the
    current figure and the reference app's beside it (when the results hold it)."""
    reference = current.reference.metrics if current.reference else {}
    rows = [
        r for r in rows
        if r.baseline is not None and r.current is not None and not r.current_unit
    ]  # fmt: skip
    if not rows:
        return ""
    width, label_w, bar, gap = 1200, 380, 16, 18
    bars_per_row = [
        [
            *(
                [("report before", baseline.before[r.key], COLORS["before"])]
                if r.key in baseline.before
                else []
            ),
            ("baseline", r.baseline or 0.0, COLORS["baseline"]),
            ("current", r.current or 0.0, COLORS["current"]),
            *(
                [("reference app", reference[r.key].value or 0.0, COLORS["reference"])]
                if r.key in reference and reference[r.key].value is not None
                else []
            ),
        ]
        for r in rows
    ]
    height = 30 + sum(len(b) * bar + gap for b in bars_per_row)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'width="100%" role="img" aria-label="before and after">'
    ]
    top = 20
    for row, bars in zip(rows, bars_per_row, strict=True):
        scale = max(abs(v) for _, v, _ in bars) or 1.0
        parts.append(
            f'<text x="0" y="{top + 14}" font-size="15" text-anchor="start">'
            f"{html.escape(row.label)}</text>"
            f'<text x="0" y="{top + 32}" font-size="13" fill="#555" text-anchor="start">'
            f"{html.escape(row.verdict)}</text>"
        )
        for j, (name, value, color) in enumerate(bars):
            w = abs(value) / scale * (width - label_w - 220)
            y0 = top + j * bar
            parts.append(
                f'<rect class="bar" x="{label_w}" y="{y0}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="{color}"/><text x="{label_w + w + 6:.1f}" y="{y0 + bar - 4}" '
                f'font-size="13">{html.escape(name)}: {html.escape(_num(value, row.unit))}</text>'
            )
        top += len(bars) * bar + gap
    parts.append("</svg>")
    return "".join(parts)


def html_report(rows: list[Row], current: MetricSet, baseline: MetricSet) -> str:
    """One self-contained page: no script, no stylesheet, no font fetched from anywhere."""
    charts = []
    for scenario, hist in current.latencies.items():
        series = []
        if scenario in baseline.latencies:
            series.append(("baseline", COLORS["baseline"], baseline.latencies[scenario]))
        series.append(("current", COLORS["current"], hist))
        if current.reference and scenario in current.reference.latencies:
            series.append(
                ("reference app", COLORS["reference"], current.reference.latencies[scenario])
            )
        charts.append(_spectrum_svg(f"{scenario}: latency distribution by percentile", series))
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(c))}</td>"
            for c in (
                r.label, _num(r.baseline, r.unit), _current(r), _change(r), _p(r),
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
    style = (
        "body{font-family:sans-serif;margin:2em auto;max-width:1300px;padding:0 1em;"
        "font-size:16px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
        "td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}"
        "figure{margin:1.5em 0}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'><title>btai benchmark comparison"
        f"</title><style>{style}</style></head><body>"
        f"<h1>Benchmark comparison</h1><p>current: {html.escape(current.source)}<br>"
        f"baseline: {html.escape(baseline.source)}</p><table><tr>{head}</tr>{cells}</table>"
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes(rows))
        + "<h2>Before and after</h2><figure>"
        + _bars_svg(rows, current, baseline)
        + "</figure><h2>Latency distributions</h2>"
        + "".join(f"<figure>{c}</figure>" for c in charts if c)
        + "</body></html>\n"
    )
