"""The team-lead page in a real browser (Debian's chromium, driven by Playwright).

Screenshots of the three pages are written to a temporary directory, and to
docs/screenshots/ when TRIAGE_WRITE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.stack import REPO_ROOT
from tests.integration.router.conftest import USERS, Store
from tests.integration.web.demo import request, showcase

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CHROMIUM = os.environ.get("TRIAGE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
Page = Any  # playwright.async_api.Page (imported lazily: only this tier needs it)


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)")


@asynccontextmanager
async def chromium(profile: Path, locale: str = "en-GB") -> AsyncIterator[Any]:
    """Debian's Chromium with a fresh profile; ``locale`` sets its Accept-Language."""
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            locale=locale,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh Chromium profile per test (no cookies carried between tests)."""
    async with chromium(tmp_path / "profile") as context:
        yield context


async def sign_in(context: Any, server: str, user: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{server}/ui/")
    assert page.url.endswith("/ui/login")
    await page.get_by_label("Access token").fill(USERS[user][0])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{server}/ui/")
    return page


def api(server: str, user: str) -> httpx.AsyncClient:
    token = USERS[user][0]
    return httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"})


async def row_ids(page: Page) -> list[str]:
    ids = await page.locator("#items tbody tr[data-item]").evaluate_all(
        "rows => rows.map(r => r.dataset.item)"
    )
    return [str(i) for i in ids]


async def test_take_next_and_complete(server: str, browser: Any, store: Store) -> None:
    from playwright.async_api import expect

    urgent = request("energy_aid", "high", subject="Coupure")
    later = request("energy_aid", "low", subject="Tarif social")
    late = request("energy_aid", "normal", subject="Facture", age=timedelta(days=30))
    await store(later, urgent, late)
    page = await sign_in(browser, server, "alice")
    energy = page.locator("tr[data-queue=energy_aid]")
    await expect(energy).to_have_class("late")  # one item is past due
    await expect(energy.locator("td").last).to_contain_text("1 past due")
    await expect(page.locator("tr[data-queue=housing]")).to_have_count(0)  # not alice's

    await page.get_by_role("link", name="Energy aid").click()
    assert await row_ids(page) == [urgent.request_id, late.request_id, later.request_id]
    # By keyboard: the button takes focus, shows it, and Enter presses it.
    await page.get_by_role("button", name="Take next").focus()
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/ui/items/{urgent.request_id}?notice=claimed")
    status = page.get_by_role("status")
    await expect(status).to_contain_text("This item is yours")
    await expect(page.locator("#item-state")).to_contain_text("Taken by alice")

    await page.get_by_role("button", name="Complete").click()
    await page.wait_for_url("**/ui/queues/energy_aid?notice=completed")
    await expect(page.locator("#status")).to_contain_text("Item completed.")
    assert await row_ids(page) == [late.request_id, later.request_id]


async def test_correcting_the_urgency_moves_the_item(
    server: str, browser: Any, store: Store
) -> None:
    from playwright.async_api import expect

    first = request("energy_aid", "high", subject="Eerste")
    second = request("energy_aid", "normal", subject="Tweede")
    await store(first, second)
    page = await sign_in(browser, server, "alice")
    await page.goto(f"{server}/ui/queues/energy_aid")
    assert await row_ids(page) == [first.request_id, second.request_id]
    await page.get_by_role("button", name="Take next").click()
    await page.wait_for_url(f"**/ui/items/{first.request_id}**")

    await page.get_by_label("Urgency").select_option("low")
    await page.get_by_label("Reason").first.fill("Geen afsluiting gepland")
    await page.get_by_role("button", name="Save correction").click()
    await page.wait_for_url(f"**/ui/items/{first.request_id}?notice=corrected")
    await expect(page.locator("#item-urgency")).to_have_text("Low P4")
    await expect(page.locator("#history")).to_contain_text("High → Energy aid, Low")

    await page.get_by_role("link", name="Energy aid").first.click()
    assert await row_ids(page) == [second.request_id, first.request_id]


async def test_someone_else_took_it(server: str, browser: Any, store: Store) -> None:
    from playwright.async_api import expect

    item = request("energy_aid", "high")
    await store(item)
    page = await sign_in(browser, server, "alice")
    await page.goto(f"{server}/ui/queues/energy_aid")
    await page.get_by_role("button", name="Take next").click()
    await page.wait_for_url(f"**/ui/items/{item.request_id}**")
    # Meanwhile the lead gives it back and bob takes it.
    async with api(server, "lena") as lena, api(server, "bob") as bob:
        assert (await lena.post(f"/v1/items/{item.request_id}/release")).status_code == 200
        assert (await bob.post("/v1/queues/energy_aid/claim")).status_code == 200

    async with page.expect_response(f"**/items/{item.request_id}/complete") as answer:
        await page.get_by_role("button", name="Complete").click()
    assert (await answer.value).status == 409
    alert = page.get_by_role("alert")
    await expect(alert).to_have_text("Someone else has taken this item (bob). Nothing was changed.")
    await expect(alert).to_be_focused()
    await expect(page.get_by_role("button", name="Complete")).to_have_count(0)


async def test_switch_language(server: str, tmp_path: Path) -> None:
    async with chromium(tmp_path / "profile", locale="nl-BE") as browser:
        await _switch_language(server, await browser.new_page())


async def _switch_language(server: str, page: Page) -> None:
    from playwright.async_api import expect

    await page.goto(f"{server}/ui/login")
    await expect(page.locator("html")).to_have_attribute("lang", "nl")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Naar de hoofdinhoud")).to_be_focused()

    await page.get_by_role("link", name="Français").click()
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    await page.get_by_label("Jeton d'accès").fill(USERS["alice"][0])
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Files de travail")
    await expect(page.get_by_role("link", name="Aide énergie")).to_be_visible()

    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Work queues")


async def test_a_script_in_a_request_shows_as_text(server: str, browser: Any, store: Store) -> None:
    from playwright.async_api import expect

    body = (
        '<script>window.pwned = 1; document.title = "pwned"</script>'
        '<img src="x" onerror="window.pwned = 2">'
    )
    item = request("energy_aid", "normal", subject="<b>hi</b>", body=body)
    await store(item)
    page = await sign_in(browser, server, "alice")
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(f"{server}/ui/items/{item.request_id}")
    await expect(page.locator("#request-body")).to_have_text(body)
    await expect(page.locator("#request-subject")).to_have_text("<b>hi</b>")
    assert await page.evaluate("window.pwned") is None
    assert await page.title() != "pwned" and not dialogs
    assert await page.locator("#request-body script, #request-body img").count() == 0


async def test_overview_updates_live(server: str, browser: Any, store: Store) -> None:
    from playwright.async_api import expect

    await store(request("energy_aid", "normal"))
    page = await sign_in(browser, server, "alice")
    in_progress = page.locator("tr[data-queue=energy_aid] td").nth(5)
    await expect(in_progress).to_have_text("0")
    await page.wait_for_timeout(500)  # the event stream is open
    async with api(server, "bob") as bob:
        assert (await bob.post("/v1/queues/energy_aid/claim")).status_code == 200
    # Polling alone would take 10 s; the LISTEN/NOTIFY → SSE path is well under that.
    await expect(in_progress).to_have_text("1", timeout=5000)


async def test_screenshots(server: str, browser: Any, store: Store, tmp_path: Path) -> None:
    from playwright.async_api import expect

    items = showcase()
    await store(*items)
    page = await sign_in(browser, server, "lena")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    await page.screenshot(path=str(shots / "overview.png"), full_page=True)
    await page.get_by_role("link", name="Energy aid").click()
    await page.screenshot(path=str(shots / "queue.png"), full_page=True)
    await page.get_by_role("button", name="Take next").click()
    await expect(page.locator("#item-state")).to_contain_text("Taken by lena")
    await page.screenshot(path=str(shots / "item.png"), full_page=True)
    for name in ("overview.png", "queue.png", "item.png"):
        assert (shots / name).stat().st_size > 10_000
    if os.environ.get("TRIAGE_WRITE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copyfile(shot, SCREENSHOTS / shot.name)
