"""Issue 14 on Zalo: citizens writing in their own words, through the Zalo webhook and the
fake Zalo API, the real core and storage, and the case API simulator."""

from __future__ import annotations

from tests.support.fake_zalo import text_event
from tests.zalo.conftest import ZaloWorld


async def test_pin_with_spaces_after_a_lookup_then_free_text_and_thanks(
    zalo_world: ZaloWorld,
) -> None:
    sample = zalo_world.samples["ready"]
    await zalo_world.say(text_event("u-70", sample.code))
    spaced = " ".join(sample.pin[i : i + 2] for i in range(0, len(sample.pin), 2))
    texts = await zalo_world.say(text_event("u-70", spaced))
    assert any("Đã xác minh" in text for text in texts)

    texts = await zalo_world.say(text_event("u-70", "hs cua toi xong chua a"))
    joined = "\n".join(texts)
    assert f"Hồ sơ {sample.code}" in joined and "Người nộp:" in joined

    texts = await zalo_world.say(text_event("u-70", "cảm ơn em nhé"))
    assert texts and "không có gì" in texts[-1]


async def test_the_menu_rides_under_the_greeting_as_buttons_that_send_their_label(
    zalo_world: ZaloWorld,
) -> None:
    await zalo_world.say(text_event("u-71", "alo"))
    greeting = zalo_world.zalo.messages[-1]
    assert "Xin chào" in greeting.text
    assert [(b["type"], b["payload"]) for b in greeting.buttons] == [
        ("oa.query.show", "🔎 Tra cứu hồ sơ"),
        ("oa.query.show", "📂 Hồ sơ của tôi"),
        ("oa.query.show", "❓ Hướng dẫn"),
        ("oa.query.show", "✍️ Góp ý"),
    ]
    texts = await zalo_world.say(text_event("u-71", "❓ Hướng dẫn"))
    assert any("/trogiup" in text for text in texts)
