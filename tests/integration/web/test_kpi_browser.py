"""The KPI page in the real browser, in the three languages, on synthetic history.

Also writes docs/screenshots/kpis.png when TRIAGE_WRITE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.router.rules import Routing
from tests.integration.web.test_browser import SCREENSHOTS, chromium, sign_in
from triage.demo_history_cli import fill

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TITLES = {
    "English": "KPIs and demand forecast",
    "Français": "Indicateurs et prévision de la demande",
    "Nederlands": "Indicatoren en vraagprognose",
}


async def test_kpi_page_in_three_languages(
    server: str, pool: asyncpg.Pool, routing: Routing, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with pool.acquire() as conn:
        assert await fill(conn, routing, 70, datetime.now(UTC)) > 5000
    async with chromium(tmp_path / "profile") as browser:
        page = await sign_in(browser, server, "lena")
        problems: list[Any] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await page.get_by_role("link", name="KPIs").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(TITLES["English"])
        for name in ("SLA compliance", "Backlog by queue", "Review and corrections"):
            await expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
        # charts are inline SVG images with a name; the forecast needs 28 days: 70 are there
        assert await page.locator("figure svg[role=img]").count() == 5
        await expect(page.get_by_role("img", name="Demand forecast")).to_be_visible()
        assert await page.locator("#kpi-table tbody tr").count() >= 10
        await page.get_by_label("Queue of the forecast").select_option("energy_aid")
        await page.get_by_role("button", name="Show").click()
        heading = page.get_by_role("heading", level=2, name="Demand forecast: Energy aid")
        await expect(heading).to_be_visible()
        await page.screenshot(path=str(tmp_path / "kpis.png"), full_page=True)
        for language in ("Français", "Nederlands"):
            await page.get_by_role("link", name=language).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(TITLES[language])
            assert await page.locator("figure svg[role=img]").count() == 5
        assert problems == []  # no CSP violation, no failed load
    assert (tmp_path / "kpis.png").stat().st_size > 20_000
    if os.environ.get("TRIAGE_WRITE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "kpis.png", SCREENSHOTS / "kpis.png")


async def test_an_agent_gets_no_kpi_link_and_a_403(server: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with chromium(tmp_path / "profile") as browser:
        page = await sign_in(browser, server, "alice")
        await expect(page.get_by_role("link", name="KPIs")).to_have_count(0)
        response = await page.goto(f"{server}/ui/kpis")
        assert response is not None and response.status == 403
