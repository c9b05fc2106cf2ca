"""WCAG 2.1 AA colour contrast of the page's CSS: text ≥ 4.5:1, focus rings ≥ 3:1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[3] / "services/router/web/static/app.css"
TEXT_PAIRS = [
    ("text", "bg"),
    ("text", "soft"),
    ("muted", "bg"),
    ("muted", "soft"),
    ("link", "bg"),
    ("link", "soft"),
    ("link", "late-bg"),
    ("bar-text", "bar-bg"),
    ("primary-text", "primary-bg"),
    ("primary-bg", "bg"),
    ("late-text", "late-bg"),
    ("text", "late-bg"),
    ("alert-text", "alert-bg"),
    ("notice-text", "notice-bg"),
    ("critical-text", "critical-bg"),
    ("high-text", "high-bg"),
    ("normal-text", "normal-bg"),
    ("low-text", "low-bg"),
]
NON_TEXT_PAIRS = [("focus", "bg"), ("focus-on-bar", "bar-bg"), ("line", "bg")]


def colours() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", CSS.read_text()))


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_formula() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_contrast(fg: str, bg: str) -> None:
    c = colours()
    assert ratio(c[fg], c[bg]) >= 4.5, f"--{fg} on --{bg}: {ratio(c[fg], c[bg]):.2f}:1"


@pytest.mark.parametrize(("fg", "bg"), NON_TEXT_PAIRS)
def test_non_text_contrast(fg: str, bg: str) -> None:
    c = colours()
    assert ratio(c[fg], c[bg]) >= 3.0, f"--{fg} on --{bg}: {ratio(c[fg], c[bg]):.2f}:1"


def test_no_colour_outside_the_variables() -> None:
    # Every colour is a checked variable: a literal elsewhere would escape the test.
    body = CSS.read_text().split("}", 1)[1]
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b", body) == []
