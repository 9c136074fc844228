"""The workspace in a real browser (Debian's headless Chromium): sign in, read the ranking,
filter it, download the CSV, read the comments, delivery and usage pages, on a desktop and on
a phone. Screenshots of every page are saved in the test's output folder."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.storage.engine import DatabaseEngine
from tests.office.browser import chromium
from tests.office.support import (
    AGENCY_A,
    AGENCY_B,
    NAME_A,
    NAME_B,
    PASSWORD,
    Workspace,
    running_workspace,
)


@pytest.fixture
def database_backend() -> str:
    """The pages' queries run on both databases in the other office tests."""
    return "sqlite"


@pytest.fixture
async def workspace(engine: DatabaseEngine) -> AsyncIterator[Workspace]:
    async with running_workspace(engine) as running:
        yield running


async def _shot(page: Any, folder: Path, name: str) -> None:
    # Playwright creates the folder.
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_an_official_signs_in_ranks_filters_and_downloads(
    workspace: Workspace, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    async with chromium() as browser:
        context = await browser.new_context(accept_downloads=True, locale="vi-VN")  # type: ignore[attr-defined]
        page = await context.new_page()
        await page.goto(f"{workspace.url}/office/")
        assert page.url.startswith(f"{workspace.url}/office/login")
        assert await page.title() == "Đăng nhập · motcua — trang làm việc"
        await _shot(page, shots, "01-login")

        await page.fill("#username", "admin")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit].primary")
        await page.wait_for_url(f"{workspace.url}/office/")
        await page.locator("h1").wait_for()
        assert await page.locator("h1").inner_text() == "Mức độ hài lòng và đúng hạn"

        # The ranking: A ranked; B (12 answers, all 100 %) flagged and listed unranked after it.
        rows = page.locator("table.ranking tbody tr")
        assert await rows.count() == 2
        first, second = await rows.nth(0).inner_text(), await rows.nth(1).inner_text()
        assert first.startswith("1") and NAME_A in first and "40" in first
        assert second.startswith("–") and NAME_B in second and "12 *" in second
        chart = page.locator("svg.chart").first
        assert "Xếp hạng chỉ số hài lòng" in str(await chart.locator("title").first.text_content())
        assert await chart.get_attribute("role") == "img"
        await _shot(page, shots, "02-satisfaction")

        # Filter: one agency.
        await page.select_option("#agency", AGENCY_A)
        await page.click("form.filters button[type=submit]")
        await page.wait_for_url(f"**agency={AGENCY_A}**")
        assert await rows.count() == 1
        assert NAME_A in await rows.nth(0).inner_text()
        await _shot(page, shots, "03-filtered")

        # CSV of what is shown.
        async with page.expect_download() as info:
            await page.click("#csv")
        download = await info.value
        saved = tmp_path / "download.csv"
        await download.save_as(str(saved))
        text = saved.read_text(encoding="utf-8")
        table = list(csv.DictReader(io.StringIO(text)))
        assert [row["key"] for row in table] == [AGENCY_A]
        assert table[0]["n"] == "40"
        assert download.suggested_filename.endswith(f"{AGENCY_A}.csv")

        for path, name, heading in (
            ("/office/comments", "04-comments", "Ý kiến của người dân"),
            ("/office/delivery", "05-delivery", "Tình trạng gửi tin"),
            ("/office/usage", "06-usage", "Người dân sử dụng trợ lý ảo"),
            ("/office/feedback", "08-feedback", "Phản ánh, kiến nghị"),
            ("/office/unanswered", "09-unanswered", "Những câu trợ lý ảo chưa trả lời được"),
        ):
            await page.goto(workspace.url + path)
            assert await page.locator("h1").inner_text() == heading
            await _shot(page, shots, name)
        # A comment's <script> is shown as text.
        await page.goto(workspace.url + "/office/comments")
        quotes = await page.locator("blockquote").all_inner_texts()
        assert any("<script>alert('x')</script>" in text for text in quotes)

        # The English twin, on a phone.
        phone = await browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
        )
        mobile = await phone.new_page()
        await mobile.goto(f"{workspace.url}/office/login?lang=en")
        await mobile.fill("#username", "viewer-a")
        await mobile.fill("#password", PASSWORD)
        await mobile.click("button[type=submit].primary")
        await mobile.wait_for_url(f"{workspace.url}/office/")
        assert await mobile.locator("h1").inner_text() == "Satisfaction and timeliness"
        assert NAME_B not in await mobile.content()
        width = await mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page must not scroll sideways on a phone"
        await _shot(mobile, shots, "07-phone-satisfaction")
        await mobile.goto(f"{workspace.url}/office/?agency={AGENCY_B}")
        assert "Page not found" in await mobile.locator("h1").inner_text()
        await context.close()
        await phone.close()
    assert len(list(shots.glob("*.png"))) == 9
    print(f"screenshots: {shots}")
