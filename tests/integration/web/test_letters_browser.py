"""A letter drafted, edited, validated and downloaded on the item page, in Chromium."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from tests.integration.router.conftest import Store
from tests.integration.web.demo import request
from tests.integration.web.test_browser import chromium, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


async def test_draft_edit_validate_download(server: str, store: Store, tmp_path: Path) -> None:
    from playwright.async_api import expect

    item = request("energy_aid", "high", subject="Coupure", language="nl")
    await store(item)
    async with chromium(tmp_path / "profile") as browser:
        page = await sign_in(browser, server, "alice")
        await page.goto(f"{server}/ui/items/{item.request_id}")
        letters = page.locator("#letters")
        await expect(letters).to_contain_text("No letter yet.")
        await page.get_by_label("Standard letter").select_option(label="Documents missing")
        await expect(page.get_by_label("Letter language")).to_have_value("nl")
        await page.get_by_role("button", name="Draft", exact=True).click()
        await page.wait_for_url("**?notice=letter_drafted#letter-*")
        await expect(page.get_by_role("status")).to_contain_text("Letter drafted")

        text = page.get_by_label("Letter text")
        await expect(text).to_contain_text("ontbreken nog de volgende documenten")
        body = (await text.input_value()).replace("[document 1]", "loonfiche van maart")
        await text.fill(body)
        await page.get_by_role("button", name="Save draft").click()
        await page.wait_for_url("**?notice=letter_saved#letter-*")
        await expect(page.get_by_label("Letter text")).to_contain_text("loonfiche van maart")

        await page.get_by_role("button", name="Validate").click()
        await page.wait_for_url("**?notice=letter_validated#letter-*")
        validated = letters.locator("article[data-status=validated]")
        await expect(validated).to_contain_text("Validated by alice")
        await expect(page.get_by_label("Letter text")).to_have_count(0)  # frozen
        await expect(page.locator("#history")).to_contain_text("Letter validated")

        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="Download PDF").click()
        download = await waiting.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
    assert saved.suffix == ".pdf"
    pdf = "".join(p.extract_text() for p in PdfReader(saved).pages)
    assert "loonfiche van maart" in pdf


async def test_a_validated_letter_cannot_be_edited_by_a_stale_form(
    server: str, store: Store, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    item = request("energy_aid", "normal", language="fr")
    await store(item)
    async with chromium(tmp_path / "profile") as browser:
        page = await sign_in(browser, server, "alice")
        await page.goto(f"{server}/ui/items/{item.request_id}")
        await page.get_by_role("button", name="Draft", exact=True).click()
        await page.wait_for_url("**?notice=letter_drafted#letter-*")
        letter_id = (await page.locator("article.letter").get_attribute("id") or "")[7:]
        # Meanwhile a colleague validates it through the API.
        token = {"Authorization": "Bearer bob-token"}
        async with httpx.AsyncClient(base_url=server, headers=token) as bob:
            url = f"/v1/items/{item.request_id}/letters/{letter_id}/validate"
            assert (await bob.post(url)).status_code == 200
        await page.get_by_label("Letter text").fill("Autre texte")
        await page.get_by_role("button", name="Save draft").click()
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("already validated")
        await expect(page.locator("article[data-status=validated]")).to_contain_text("bob")
