"""End to end: an official answers a citizen's complaint in the browser (Debian's headless
Chromium) and the citizen receives the reply in their Telegram chat (the fake Bot API), through
the outbox and the dispatcher that ``motcua run`` wires."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.office.passwords import hash_password
from tests.office.browser import chromium
from tests.support.running import running_bot

CITIZEN = 7701
PASSWORD = "correct horse battery"
REPLY = "Kính gửi ông/bà: hồ sơ đã được chuyển xử lý gấp, hẹn trả ngày 05/12."


@pytest.fixture
def database_backend() -> str:
    """The storage runs on both databases in its own tests; this one needs one."""
    return "sqlite"


async def test_a_reply_written_in_the_workspace_reaches_the_citizens_chat(
    database_url: str, tmp_path: Path
) -> None:
    async with running_bot(database_url, "polling", deep_link_secret="e2e-secret") as bot:
        fake, runtime = bot.fake, bot.runtime
        await fake.send_text(CITIZEN, "/start")
        # the welcome (with the menu) and the language choice
        await fake.wait_until(lambda: len(fake.texts(CITIZEN)) >= 2)
        sample = bot.samples["processing"]
        agency = sample.code.split("-")[0]
        now = runtime.clock.now()
        async with runtime.uow_factory() as uow:
            user = await uow.users.get_or_create("telegram", str(CITIZEN), language="vi", now=now)
            item = await uow.feedback.add(
                channel="telegram", user_id=user.id, agency_code=agency, procedure_code=None,
                kind="complaint", text="Hồ sơ của tôi quá hạn 2 tuần rồi", language="vi", now=now,
            )  # fmt: skip
            await uow.staff.add(
                "lan", password_hash=hash_password(PASSWORD), role="manager", agencies=[agency],
                now=now,
            )  # fmt: skip
            await uow.commit()
        before = len(fake.texts(CITIZEN))
        base = f"http://127.0.0.1:{bot.port}"
        shots = tmp_path / "screenshots"
        async with chromium() as browser:
            page = await browser.new_page()  # type: ignore[attr-defined]
            await page.goto(f"{base}/office/feedback")
            await page.fill("#username", "lan")
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit].primary")
            await page.wait_for_url(f"{base}/office/feedback")
            await page.click(f"a[href='/office/feedback/{item}']")
            await page.wait_for_url(f"{base}/office/feedback/{item}")
            await page.fill("#text", REPLY)
            await page.screenshot(path=str(shots / "10-feedback-reply.png"), full_page=True)
            await page.click("form[action$='/reply'] button[type=submit]")
            await page.wait_for_url(f"**/office/feedback/{item}?sent=1")
            thread = await page.locator("ol.thread").inner_text()
            assert "quá hạn 2 tuần" in thread and REPLY in thread
            await page.screenshot(path=str(shots / "11-feedback-thread.png"), full_page=True)
        await fake.wait_until(lambda: len(fake.texts(CITIZEN)) > before, within=15)
        received = fake.texts(CITIZEN)[-1]
        assert f"(số {item})" in received and received.endswith(REPLY)
