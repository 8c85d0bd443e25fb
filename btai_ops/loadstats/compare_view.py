"""Comparison output: a rich table, markdown for a pull request, JSON, and offline HTML."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

from btai_ops.loadstats.compare import Metric, MetricSet, Row
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
Bar = tuple[str, float, str]  # name, value, colour


@dataclass(frozen=True)
class _Plot:
    """The spectrum chart's frame: log latency decades lo..hi (y) against percentiles (x)."""

    top_q: float
    lo: int
    hi: int
    width: int = 1200
    height: int = 380
    left: int = 90
    right: int = 170
    top: int = 40
    bottom: int = 60

    def x(self, q: float) -> float:
        span_x = math.log10(1 / (1 - self.top_q / 100)) - math.log10(2)
        return self.left + (math.log10(1 / (1 - q / 100)) - math.log10(2)) / span_x * (
            self.width - self.left - self.right
        )

    def y(self, v: float) -> float:
        frac = (math.log10(max(v, 10**self.lo)) - self.lo) / (self.hi - self.lo)
        return self.height - self.bottom - frac * (self.height - self.top - self.bottom)


def _frame(plot: _Plot, title: str, qs: list[float]) -> list[str]:
    """The title, the box, the latency grid with its labels and the percentile lines."""
    width, height, left, right, top = plot.width, plot.height, plot.left, plot.right, plot.top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="24" font-size="18" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - plot.bottom}" fill="none" stroke="#999"/>',
    ]
    grid = [(m * 10.0**d, m) for d in range(plot.lo, plot.hi + 1) for m in (1, 2, 5)]
    for v, m in grid:
        if 10**plot.lo <= v <= 10**plot.hi:
            weight = "#ccc" if m == 1 else "#eee"
            parts.append(
                f'<line x1="{left}" x2="{width - right}" y1="{plot.y(v):.1f}" '
                f'y2="{plot.y(v):.1f}" stroke="{weight}"/><text x="{left - 8}" '
                f'y="{plot.y(v) + 5:.1f}" font-size="14" text-anchor="end">{v:g}</text>'
            )
    for q in qs:
        parts.append(
            f'<line x1="{plot.x(q):.1f}" x2="{plot.x(q):.1f}" y1="{top}" '
            f'y2="{height - plot.bottom}" stroke="#eee"/><text x="{plot.x(q):.1f}" '
            f'y="{height - plot.bottom + 20}" font-size="14" text-anchor="middle">p{q:g}</text>'
        )
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 12}" font-size="15" '
        'text-anchor="middle">percentile (successful requests)</text>'
        f'<text transform="translate(22 {(top + height - plot.bottom) / 2}) rotate(-90)" '
        'font-size="15" text-anchor="middle">latency (ms, log scale)</text>'
    )
    return parts


def _series_svg(
    plot: _Plot, i: int, label: str, color: str, hist: Histogram, qs: list[float]
) -> str:
    points = " ".join(f"{plot.x(q):.1f},{plot.y(hist.percentile(q)):.1f}" for q in qs)
    dash = ' stroke-dasharray="8 5"' if label.startswith("reference") else ""
    dots = "".join(
        f'<circle cx="{plot.x(q):.1f}" cy="{plot.y(hist.percentile(q)):.1f}" r="4" fill="{color}"/>'
        for q in qs
    )
    key_x = plot.width - plot.right
    return (
        f'<polyline class="series" fill="none" stroke="{color}" stroke-width="3"{dash} '
        f'points="{points}"/>'
        + dots
        + f'<rect x="{key_x + 16}" y="{plot.top + 8 + 24 * i}" width="18" height="4" '
        f'fill="{color}"/><text x="{key_x + 40}" y="{plot.top + 14 + 24 * i}" '
        f'font-size="15">{html.escape(label)}</text>'
    )


def _plot_for(hists: list[Histogram]) -> tuple[_Plot, list[float]]:
    """The frame that holds every series, and the percentiles each has a sample beyond."""
    top_q = max(q for q in _SPECTRUM if all(h.count * (1 - q / 100) >= 1 for h in hists))
    qs = [q for q in _SPECTRUM if q <= top_q]
    values = [h.percentile(q) for h in hists for q in qs] + [h.min_ms for h in hists]
    lo = math.floor(math.log10(max(min(values), 1e-3)))
    hi = math.ceil(math.log10(max(max(values), 10**lo * 1.01)))
    return _Plot(top_q, lo, max(hi, lo + 1)), qs


def _spectrum_svg(title: str, series: list[tuple[str, str, Histogram]]) -> str:
    """Latency (log axis, y) at each percentile (x, spaced by 1/(1 - q) so tails show)."""
    series = [(label, color, h) for label, color, h in series if h.count]
    if not series:
        return ""
    plot, qs = _plot_for([h for _, _, h in series])
    parts = _frame(plot, title, qs)
    for i, (label, color, hist) in enumerate(series):
        parts.append(_series_svg(plot, i, label, color, hist, qs))
    parts.append("</svg>")
    return "".join(parts)


def _bars_of(row: Row, reference: dict[str, Metric], before: dict[str, float]) -> list[Bar]:
    bars = []
    if row.key in before:
        bars.append(("report before", before[row.key], COLORS["before"]))
    bars.append(("baseline", row.baseline or 0.0, COLORS["baseline"]))
    bars.append(("current", row.current or 0.0, COLORS["current"]))
    if row.key in reference and reference[row.key].value is not None:
        bars.append(("reference app", reference[row.key].value or 0.0, COLORS["reference"]))
    return bars


def _row_bars_svg(row: Row, bars: list[Bar], top: int) -> str:
    """One row's label and verdict, then its bars on a scale of their largest."""
    width, label_w, bar = 1200, 380, 16
    scale = max(abs(v) for _, v, _ in bars) or 1.0
    parts = [
        f'<text x="0" y="{top + 14}" font-size="15" text-anchor="start">'
        f"{html.escape(row.label)}</text>"
        f'<text x="0" y="{top + 32}" font-size="13" fill="#555" text-anchor="start">'
        f"{html.escape(row.verdict)}</text>"
    ]
    for j, (name, value, color) in enumerate(bars):
        w = abs(value) / scale * (width - label_w - 220)
        y0 = top + j * bar
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{y0}" width="{w:.1f}" height="{bar - 2}" '
            f'fill="{color}"/><text x="{label_w + w + 6:.1f}" y="{y0 + bar - 4}" '
            f'font-size="13">{html.escape(name)}: {html.escape(_num(value, row.unit))}</text>'
        )
    return "".join(parts)


def _drawable(row: Row) -> bool:
    return row.baseline is not None and row.current is not None and not row.current_unit


def _bars_svg(rows: list[Row], current: MetricSet, baseline: MetricSet) -> str:
    """Per row: the report's "before" (when the baseline is the report), the baseline, the
    current figure and the reference app's beside it (when the results hold it). Rows in
    two units have no common scale and are left out."""
    reference = current.reference.metrics if current.reference else {}
    rows = [r for r in rows if _drawable(r)]
    if not rows:
        return ""
    width, bar, gap = 1200, 16, 18
    bars_per_row = [_bars_of(r, reference, baseline.before) for r in rows]
    height = 30 + sum(len(b) * bar + gap for b in bars_per_row)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'width="100%" role="img" aria-label="before and after">'
    ]
    top = 20
    for row, bars in zip(rows, bars_per_row, strict=True):
        parts.append(_row_bars_svg(row, bars, top))
        top += len(bars) * bar + gap
    parts.append("</svg>")
    return "".join(parts)


def _charts(current: MetricSet, baseline: MetricSet) -> list[str]:
    """A latency spectrum per scenario: baseline, current and the reference app's."""
    charts = []
    reference = current.reference.latencies if current.reference else {}
    for scenario, hist in current.latencies.items():
        series = []
        if scenario in baseline.latencies:
            series.append(("baseline", COLORS["baseline"], baseline.latencies[scenario]))
        series.append(("current", COLORS["current"], hist))
        if scenario in reference:
            series.append(("reference app", COLORS["reference"], reference[scenario]))
        charts.append(_spectrum_svg(f"{scenario}: latency distribution by percentile", series))
    return charts


def _cells(row: Row) -> str:
    values = (
        row.label,
        _num(row.baseline, row.unit),
        _current(row),
        _change(row),
        _p(row),
        row.to_dict()["tolerance"],
        row.verdict,
    )
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in values) + "</tr>"


def html_report(rows: list[Row], current: MetricSet, baseline: MetricSet) -> str:
    """One self-contained page: no script, no stylesheet, no font fetched from anywhere."""
    charts = _charts(current, baseline)
    cells = "".join(_cells(r) for r in rows)
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
