"""Citizens writing in their own words, through the real core (console channel, real storage,
the case API simulator): context after a lookup, intents with their own answers, feedback."""

from __future__ import annotations

from bot import payloads
from bot.domain.masking import mask_digits
from bot.messages import Incoming
from bot.payloads import Action
from tests.core.conftest import Citizen, World


async def verified(world: World, status: str, user_id: str = "citizen-1") -> Citizen:
    """A citizen who looked up a sample dossier and typed its PIN right after."""
    citizen = world.citizen(user_id)
    sample = world.samples[status]
    await citizen.says(sample.code)
    screen = await citizen.says(sample.pin)
    assert "Đã xác minh" in screen
    return citizen


async def test_pin_typed_right_after_a_lookup_verifies_without_the_button(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["ready"]
    await citizen.says(sample.code)
    spaced = sample.pin[:3] + " " + sample.pin[3:]
    screen = await citizen.says(spaced)
    assert "Đã xác minh" in screen
    assert "Người nộp:" in screen


async def test_never_mind_while_a_pin_is_awaited_cancels(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["processing"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    screen = await citizen.says("thôi")
    assert "Đã hủy" in screen


async def test_pin_with_dots_and_dashes_while_waiting_for_it(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["processing"]
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    screen = await citizen.says("mã pin " + "-".join(sample.pin[i : i + 2] for i in range(0, 6, 2)))
    assert "Đã xác minh" in screen


async def test_a_pin_without_a_dossier_in_context_asks_for_the_code_first(world: World) -> None:
    screen = await world.citizen().says("728 508")
    assert "gửi mã hồ sơ trước" in screen
    assert "Đã xác minh" not in screen


async def test_a_typed_phone_number_is_never_proof(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["supplement_required"]
    await citizen.says(sample.code)
    screen = await citizen.says(sample.phone)
    assert "không dùng để xác nhận" in screen
    assert "Người nộp" not in screen and "Đã xác minh" not in screen
    # the share button is offered instead; sharing through the app does prove it
    await citizen.presses(Action.CONTACT)
    screen = await citizen.says(sample.phone)
    assert "Đã xác minh" in screen


async def test_verified_citizen_asks_in_free_text_and_gets_their_dossier(world: World) -> None:
    citizen = await verified(world, "processing")
    screen = await citizen.says("em ơi hồ sơ của chị xong chưa")
    code = world.samples["processing"].code
    assert f"Hồ sơ {code}" in screen and "Người nộp:" in screen
    screen = await citizen.says("bao gio duoc lay")
    assert f"Hồ sơ {code}" in screen


async def test_someone_without_a_dossier_is_asked_for_the_code(world: World) -> None:
    screen = await world.citizen().says("hs cua e xong chua a")
    assert "cần mã hồ sơ" in screen and "Giấy tiếp nhận" in screen


async def test_thanks_gets_a_thank_you_not_an_instruction(world: World) -> None:
    citizen = world.citizen()
    for message in ("thanks em", "cảm ơn nhiều ạ", "👍", "ok"):
        screen = await citizen.says(message)
        assert "không có gì" in screen, message
        assert "mã hồ sơ" not in screen


async def test_words_that_look_alike_without_diacritics_are_not_confused(world: World) -> None:
    citizen = world.citizen()
    not_stop = "không nhận thông báo nào"  # the answer to "stop the notices"
    screen = await citizen.says("đúng rồi")
    assert not_stop not in screen and "không có gì" in screen
    screen = await citizen.says("tôi tên Dũng")
    assert not_stop not in screen and "chưa hiểu" in screen
    screen = await citizen.says("bot dùng như nào")
    assert not_stop not in screen and "/trogiup" in screen
    for message in ("vàng", "giá vàng hôm nay"):
        screen = await citizen.says(message)
        assert "không có gì" not in screen and "chưa hiểu" in screen, message


async def test_chat_shorthand_is_understood(world: World) -> None:
    citizen = world.citizen()
    for message in ("a/c ơi hs e dc chưa", "bao h có kq vậy ad", "hồ sơ xog chưa"):
        screen = await citizen.says(message)
        assert "cần mã hồ sơ" in screen and "Xin chào" not in screen, message
    for message in ("okk", "okela", "oki"):
        assert "không có gì" in await citizen.says(message), message


async def test_start_shows_the_menu_and_the_language_choice(world: World) -> None:
    screen = await world.citizen().says("/start")
    assert "☰ 🔎 Tra cứu hồ sơ · 📂 Hồ sơ của tôi · ❓ Hướng dẫn · ✍️ Góp ý" in screen
    assert "[1] 🇻🇳 Tiếng Việt" in screen


async def test_the_menus_look_up_asks_for_a_new_code(world: World) -> None:
    citizen = await verified(world, "processing")
    code = world.samples["processing"].code
    for tapped in ("🔎 Tra cứu hồ sơ", "Tra cứu hồ sơ"):
        screen = await citizen.says(tapped)
        assert "gửi mã hồ sơ" in screen and "000.00.53.H48-220921-0099" in screen, tapped
        assert f"Hồ sơ {code}" not in screen, tapped
    screen = await citizen.says("📂 Hồ sơ của tôi")
    assert code in screen


async def test_switching_language_brings_the_menu_in_that_language(world: World) -> None:
    screen = await world.citizen().says("/lang en")
    assert "☰ 🔎 Look up a dossier" in screen


async def test_greeting_and_help_without_a_slash(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("xin chào")
    assert "Xin chào" in screen and "☰" in screen  # the menu
    screen = await citizen.says("hướng dẫn")
    assert "/hoso" in screen and "/trogiup" in screen
    screen = await citizen.says("help")
    assert "Các lệnh" in screen and "/trogiup" in screen


async def test_one_english_word_is_answered_in_the_users_language(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("hi")
    assert "Xin chào" in screen and "🔎 Tra cứu hồ sơ" in screen  # the menu stays Vietnamese
    assert "Shall I use English" not in screen
    screen = await citizen.says("help")
    assert "Các lệnh" in screen and "Commands" not in screen
    screen = await citizen.says("how do I use this bot?")  # a sentence: English, and an offer
    assert "Commands" in screen and "Shall I use English from now on?" in screen
    screen = await citizen.says("hello there")
    assert "Hello!" in screen and "🔎 Tra cứu hồ sơ" in screen  # their menu, until they switch


async def test_fee_of_the_dossier_in_context_for_its_owner_only(world: World) -> None:
    stranger = world.citizen("stranger")
    sample = world.samples["processing"]
    await stranger.says(sample.code)
    screen = await stranger.says("phải đóng bao nhiêu tiền")
    assert "xác nhận đây là hồ sơ của mình" in screen
    assert "Lệ phí của hồ sơ" not in screen
    owner = await verified(world, "processing", "owner")
    screen = await owner.says("le phi bn vay")
    assert "Lệ phí của hồ sơ" in screen or "không có ghi nhận lệ phí" in screen


async def test_pickup_question_without_a_dossier_gets_the_general_answer(world: World) -> None:
    screen = await world.citizen().says("cho hỏi chỗ nhận kết quả")
    assert "bộ phận một cửa" in screen and "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in screen


async def test_pickup_question_for_a_ready_dossier_of_its_owner(world: World) -> None:
    citizen = await verified(world, "ready")
    screen = await citizen.says("nhận kết quả ở đâu ạ")
    assert "Nơi nhận kết quả" in screen or "bưu chính" in screen


async def test_english_question_is_answered_in_english_with_an_offer(world: World) -> None:
    screen = await world.citizen().says("when will my dossier be ready?")
    assert "I need its code" in screen
    assert "Shall I use English from now on?" in screen


async def test_stop_notices_is_confirmed_by_a_button(world: World) -> None:
    citizen = await verified(world, "processing")
    screen = await citizen.says("tôi không muốn nhận tin nữa")
    assert "dừng nhận thông báo" in screen
    screen = await citizen.presses(Action.UNSUBSCRIBE_ALL)
    assert "1" in screen
    screen = await citizen.says("tắt thông báo")
    assert "không nhận thông báo nào" in screen


async def test_forget_me_leads_to_the_confirmed_erase(world: World) -> None:
    citizen = await verified(world, "processing")
    screen = await citizen.says("xóa dữ liệu của tôi")
    assert "[1]" in screen  # the confirmation buttons
    await citizen.presses(Action.FORGET_YES)
    screen = await citizen.says("hồ sơ của tôi xong chưa")
    assert "cần mã hồ sơ" in screen


async def test_feedback_is_stored_masked_with_its_agency(world: World) -> None:
    citizen = world.citizen()
    sample = world.samples["processing"]
    await citizen.says(sample.code)
    screen = await citizen.says("cán bộ thái độ không tốt, gọi lại cho tôi số 0912 345 678")
    assert "đã được chuyển đến bộ phận một cửa" in screen
    async with world.runtime.uow_factory() as uow:
        items = await uow.feedback.list_feedback()
        thread = await uow.feedback.thread(items[0].id)
    assert len(items) == 1
    item = items[0]
    assert "0912" not in item.text and "•••• ••• •••" in item.text
    assert item.agency_code == sample.code.split("-")[0]
    assert item.channel == "console" and item.status == "open"
    assert [m.text for m in thread] == [item.text]


async def test_feedback_in_two_steps_and_a_complaint(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("góp ý")
    assert "viết góp ý" in screen
    screen = await citizen.says("Phòng chờ nóng, nên lắp thêm quạt")
    assert "đã được chuyển" in screen
    screen = await citizen.says("tôi muốn khiếu nại cán bộ hách dịch")
    assert "Luật Khiếu nại" in screen
    async with world.runtime.uow_factory() as uow:
        items = await uow.feedback.list_feedback()
    assert [i.kind for i in items] == ["complaint", "feedback"]  # newest first


async def test_a_complaint_announced_first_is_stored_as_a_complaint(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("khiếu nại")
    assert "viết góp ý hoặc phản ánh" in screen
    screen = await citizen.says("Cán bộ bắt tôi chờ từ sáng đến chiều mà không giải quyết")
    assert "đã được chuyển đến bộ phận một cửa" in screen
    assert "Luật Khiếu nại năm 2011" in screen
    async with world.runtime.uow_factory() as uow:
        items = await uow.feedback.list_feedback()
    assert [i.kind for i in items] == ["complaint"]


async def test_while_feedback_is_awaited_nothing_but_the_feedback_is_kept(world: World) -> None:
    citizen = world.citizen()
    await citizen.says("góp ý")
    for bare in ("ok", "👍", "xin chào"):
        screen = await citizen.says(bare)
        assert "đang chờ nội dung góp ý" in screen, bare
        assert "đã được chuyển" not in screen, bare
    screen = await citizen.says("/help")
    assert "/trogiup" in screen and "đã được chuyển" not in screen
    response = await world.runtime.core(
        Incoming("console", "citizen-1", payload=payloads.make(Action.HELP))
    )
    assert "đã được chuyển" not in " ".join(r.text for r in response.replies)
    screen = await citizen.says("thôi")
    assert "Đã hủy" in screen and "không có nội dung nào" in screen
    screen = await citizen.says("ok")  # the wait is over: a plain thank-you again
    assert "không có gì" in screen

    await citizen.says("góp ý")
    screen = await citizen.says("e muốn hủy")
    assert "Đã hủy" in screen

    await citizen.says("góp ý")
    code = world.samples["processing"].code
    screen = await citizen.says(code)  # a code goes to the lookup, and ends the wait
    assert f"Hồ sơ {code}" in screen
    screen = await citizen.says("ok")
    assert "không có gì" in screen
    async with world.runtime.uow_factory() as uow:
        assert await uow.feedback.list_feedback() == []


COMPLAINT_SENTENCE = (
    "Tôi nộp hồ sơ cấp sổ đỏ từ tháng 8, đã quá hạn ba tuần, gọi điện lên không ai nghe máy, "
    "đến hỏi thì cán bộ bảo về chờ. "
)


async def test_a_long_complaint_is_kept_not_dropped(world: World) -> None:
    citizen = world.citizen()
    complaint = COMPLAINT_SENTENCE * 25  # about 3,000 characters, over what the bot reads
    assert 2000 < len(complaint) < 4000
    screen = await citizen.says(complaint)
    assert "quá dài" not in screen
    assert "đã được chuyển đến bộ phận một cửa" in screen and "được lưu lại" not in screen
    async with world.runtime.uow_factory() as uow:
        [item] = await uow.feedback.list_feedback()
    assert item.text == mask_digits(complaint.strip())  # whole, its digits masked


async def test_feedback_over_the_limit_is_cut_and_the_citizen_is_told(world: World) -> None:
    citizen = world.citizen()
    await citizen.says("góp ý")
    screen = await citizen.says("Phòng chờ đông người, không đủ ghế. " * 200)  # 7,000 chars
    assert "đã được chuyển đến bộ phận một cửa" in screen
    assert "chỉ 4.000 ký tự đầu tiên" in " ".join(screen.split())
    async with world.runtime.uow_factory() as uow:
        [item] = await uow.feedback.list_feedback()
    assert len(item.text) == 4000


async def test_a_long_message_that_is_no_feedback_is_answered_politely(world: World) -> None:
    screen = " ".join((await world.citizen().says("hồ sơ của tôi xong chưa " * 100)).split())
    assert "quá dài" in screen and "“✍️ Góp ý”" in screen and "4.000 ký tự" in screen
    async with world.runtime.uow_factory() as uow:
        assert await uow.feedback.list_feedback() == []
        assert await uow.feedback.list_unanswered() == []


async def test_what_the_bot_cannot_answer_is_kept_for_the_office(world: World) -> None:
    citizen = world.citizen()
    screen = await citizen.says("cho hỏi làm hộ chiếu cho con 12 tuổi")
    assert "chưa hiểu" in screen and "☰" in screen
    assert "Tôi đã ghi lại câu hỏi" in screen
    for nothing_to_keep in ("😀😀", "🇻🇳", "Где мой документ 我的文件"):
        screen = await citizen.says(nothing_to_keep)
        assert "chưa hiểu" in screen, nothing_to_keep
        assert "ghi lại" not in screen, nothing_to_keep  # not kept, so not said to be
    async with world.runtime.uow_factory() as uow:
        kept = await uow.feedback.list_unanswered()
    assert [k.text for k in kept] == ["cho hỏi làm hộ chiếu cho con •• tuổi"]


async def test_a_mistyped_code_is_explained_and_not_kept(world: World) -> None:
    screen = await world.citizen().says("000.00.53.H48-221399-0099")
    assert "chưa đúng định dạng" in screen
    async with world.runtime.uow_factory() as uow:
        assert await uow.feedback.list_unanswered() == []


async def test_asking_about_my_data_shows_the_privacy_notice(world: World) -> None:
    screen = await world.citizen().says("bot lưu thông tin gì của tôi vậy")
    assert "13/2023" in screen and "/forget" in screen
