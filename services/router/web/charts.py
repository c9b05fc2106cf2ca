"""The KPI page's charts: matplotlib figures rendered on the server as inline SVG.

No script and no font file: text stays ``<text>`` in the page's own sans-serif
(``svg.fonttype: none``). Several charts share one HTML page, so every id in a
chart's SVG gets the chart's prefix (valid HTML, no clip path borrowed from
another chart). The page's Content-Security-Policy allows no inline style, so
matplotlib's ``<style>`` element is dropped and every ``style="..."`` attribute
becomes the SVG presentation attributes it lists (fill, stroke, font-size...).
Colours are the page's palette, readable in greyscale (solid/dashed lines).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

INK, BLUE, ORANGE, GREEN, GREY, RED = (
    "#1b1b1b",
    "#1f5fa8",
    "#b35900",
    "#2e7d32",
    "#6b6b6b",
    "#b00020",
)
_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)
_HEADER = re.compile(r"^.*?(?=<svg)", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')
_STYLE_ATTR = re.compile(r'style="([^"]*)"')
RC: Any = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10.0,
    "svg.hashsalt": "kpi",
}


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    color: str = BLUE
    dashed: bool = False


def to_svg(figure: Figure, prefix: str, title: str) -> str:
    """The figure as an inline ``<svg>`` element with an accessible name."""
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = _STYLE.sub("", _HEADER.sub("", buffer.getvalue(), count=1))
    svg = _ID.sub(lambda m: f'id="{prefix}-{m[1]}"', svg)
    svg = _REF.sub(lambda m: f"{m[1]}{prefix}-{m[2]}", svg)
    svg = _STYLE_ATTR.sub(lambda m: presentation(m[1]), svg)
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def presentation(style: str) -> str:
    """``fill: none; stroke: #000`` -> ``fill="none" stroke="#000"`` (the page's own
    sans-serif for any font family: no font is ever fetched)."""
    attributes = []
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name == "font-family":
            value = "sans-serif"
        if name and value:
            attributes.append(f'{name}="{value}"')
    return " ".join(attributes)


def _days(days: Sequence[date]) -> Any:
    return np.asarray(days, dtype="datetime64[D]")


def _figure(width: float = 7.0, height: float = 2.8) -> Figure:
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.tick_params(colors=INK, labelsize=9)
    return figure


def lines(
    prefix: str, title: str, days: Sequence[date], series: Sequence[Series], unit: str
) -> str:
    """Values over time, one line per series (None: a gap)."""
    figure = _figure()
    axes = figure.axes[0]
    for s in series:
        values = [float("nan") if v is None else v for v in s.values]
        axes.plot(
            _days(days),
            values,
            color=s.color,
            linestyle="--" if s.dashed else "-",
            marker="o",
            markersize=3,
            label=s.label,
        )
    axes.set_ylabel(unit)
    axes.set_ylim(bottom=0)
    axes.legend(frameon=False, fontsize=9, loc="upper left")
    figure.autofmt_xdate()
    return to_svg(figure, prefix, title)


def bars(prefix: str, title: str, names: Sequence[str], stacks: Sequence[Series], unit: str) -> str:
    """Horizontal stacked bars, one per name (the backlog by queue)."""
    figure = _figure(height=0.35 * max(len(names), 3) + 0.8)
    axes = figure.axes[0]
    left = [0.0] * len(names)
    for s in stacks:
        values = [v or 0.0 for v in s.values]
        axes.barh(list(names), values, left=left, color=s.color, label=s.label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel(unit)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.legend(frameon=False, fontsize=9, loc="lower right")
    return to_svg(figure, prefix, title)


@dataclass(frozen=True)
class ForecastChart:
    actual_days: Sequence[date]
    actual: Sequence[int]
    days: Sequence[date]
    expected: Sequence[float]
    lower: Sequence[float]
    upper: Sequence[float]
    capacity: float | None


def forecast(prefix: str, title: str, data: ForecastChart, labels: dict[str, str]) -> str:
    """Recent daily arrivals (bars), the forecast with its interval, the capacity line."""
    figure = _figure()
    axes = figure.axes[0]
    axes.bar(_days(data.actual_days), data.actual, color=GREY, label=labels["actual"])
    axes.fill_between(
        _days(data.days),
        data.lower,
        data.upper,
        color=BLUE,
        alpha=0.2,
        linewidth=0,
        label=labels["interval"],
    )
    axes.plot(
        _days(data.days),
        data.expected,
        color=BLUE,
        marker="o",
        markersize=3,
        label=labels["expected"],
    )
    if data.capacity is not None:
        axes.axhline(data.capacity, color=RED, linestyle="--", label=labels["capacity"])
    axes.set_ylabel(labels["unit"])
    axes.set_ylim(bottom=0)
    axes.legend(frameon=False, fontsize=9, loc="upper left")
    figure.autofmt_xdate()
    return to_svg(figure, prefix, title)
