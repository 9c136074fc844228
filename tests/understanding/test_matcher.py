"""The matcher's parts: normalisation, slots, phrase files, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.understanding import Intent, Matcher, default_matcher, understand
from bot.understanding.matcher import bundled_phrase_files, load_phrase_file


def tokens(text: str) -> tuple[str, ...]:
    return understand(text).tokens


def test_diacritics_case_repeats_and_abbreviations_fold_alike() -> None:
    assert tokens("Hồ Sơ CỦA Em XONG CHƯA Ạ!!!") == tokens("ho so cua e xong chua a")
    assert tokens("đc ko") == ("duoc", "khong")
    assert tokens("hs xongggg chưaaaa") == ("ho", "so", "xong", "chua")
    assert tokens("a/c ơi") == ("anh", "chi", "oi")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("đúng rồi", Intent.THANKS),  # "đúng" (right) is not "đừng" (don't)
        ("tôi tên Dũng", Intent.UNKNOWN),  # a name is not "dừng" (stop)
        ("bot dùng như nào", Intent.HELP),  # "dùng" (use) is not "dừng"
        ("vàng", Intent.UNKNOWN),  # gold is not "vâng" (yes)
        ("giá vàng hôm nay", Intent.UNKNOWN),
        ("kinh tế khó khăn", Intent.UNKNOWN),  # "tế" is not "tệ" (bad)
        ("dừng nhận tin", Intent.STOP),
        ("huỷ đăng ký", Intent.STOP),  # old tone placement: huỷ = hủy
    ],
)
def test_words_written_with_diacritics_match_only_with_them(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("dung", Intent.UNKNOWN),  # dừng? dùng? đúng? Dũng? — not enough to act on
        ("toi ten dung", Intent.UNKNOWN),
        ("gia vang hom nay", Intent.UNKNOWN),
        ("dung gui tin nua", Intent.STOP),  # inside a longer phrase it is "đừng"
        ("dung nhan tin nua nhe", Intent.STOP),
        ("dung roi", Intent.THANKS),
        ("hồ so cua em the nao roi", Intent.STATUS),  # some words bare, some marked
    ],
)
def test_words_typed_without_diacritics_still_match(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("bao h có kq vậy ad", Intent.STATUS),  # h = giờ, kq = kết quả, ad = the office
        ("hồ sơ xog chưa", Intent.STATUS),
        ("hs e dc chưa", Intent.STATUS),
        ("a/c ơi hs e dc chưa", Intent.STATUS),  # "a/c ơi" opens the question, not a hello
        ("ad", Intent.GREETING),
        ("okk", Intent.THANKS),
        ("okela", Intent.THANKS),
        ("oki", Intent.THANKS),
    ],
)
def test_chat_shorthand(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


def test_a_greeting_or_thanks_gives_way_to_a_question() -> None:
    assert understand("chào ad, hồ sơ của tôi xong chưa").intent is Intent.STATUS
    assert understand("cảm ơn, cho hỏi lệ phí bao nhiêu").intent is Intent.FEE
    assert understand("chào ad").intent is Intent.GREETING


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # one generic keyword in a message about something else is not the intent
        ("can you help me find a job", Intent.UNKNOWN),
        ("cho em hỏi cách làm giấy phép kinh doanh", Intent.UNKNOWN),
        ("vàng hôm nay giá bao nhiêu", Intent.UNKNOWN),
        ("cho em hỏi thủ tục đăng ký kết hôn cần giấy tờ gì ạ", Intent.UNKNOWN),
        # how-to questions are help
        ("lam sao de tra cuu", Intent.HELP),
        ("how do i use this", Intent.HELP),
        # what people say about the staff and the service is feedback, even beside a topic
        ("cán bộ làm việc quá chậm, chờ 2 tiếng", Intent.FEEDBACK),
        ("nhân viên không nghe máy", Intent.FEEDBACK),
        ("cán bộ bắt nộp thêm tiền ngoài quy định", Intent.FEEDBACK),
        ("tôi phản ánh việc trễ hẹn", Intent.FEEDBACK),
        ("the staff were very helpful, thank you", Intent.FEEDBACK),
        # the office itself, asked where or what number
        ("ubnd phường ở đâu", Intent.CONTACT),
        ("what is the phone number", Intent.CONTACT),
        ("xóa số của tôi đi", Intent.FORGET),
        ("tắt tin nhắn đi", Intent.STOP),
    ],
)
def test_kinds_of_phrasing_an_audit_found_misread(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


def test_a_complaint_said_another_way_is_a_complaint() -> None:
    understood = understand("tôi muốn phàn nàn về cán bộ ở quầy 3")
    assert understood.intent is Intent.FEEDBACK and understood.complaint


@pytest.mark.parametrize(
    "text",
    [
        "tôi muốn khiếu nại về lệ phí",  # a topic that weighs more than "khiếu nại" alone
        "toi muon khieu nai ve le phi",
        "tôi muốn khiếu nai về lệ phí",  # some of its diacritics are enough
        "góp ý về giờ làm việc",
        "hồ sơ trễ hẹn mà không ai báo, tôi muốn phản ánh",
    ],
)
def test_a_message_that_says_it_is_feedback_is_feedback_whatever_its_topic(text: str) -> None:
    assert understand(text).intent is Intent.FEEDBACK


def test_a_name_is_not_a_complaint_word() -> None:
    # "Phan Anh" folds like "phản ánh", but this citizen writes diacritics
    assert understand("tôi tên Phan Anh, hồ sơ của tôi xong chưa").intent is Intent.STATUS


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("chuyển sang tiếng việt giúp em với ạ", "vi"),
        ("chuyen qua tieng anh giup toi voi", "en"),
        ("bot trả lời bằng tiếng anh giúp mình", "en"),
    ],
)
def test_a_polite_giup_em_does_not_outweigh_a_language_switch(text: str, language: str) -> None:
    understood = understand(text)
    assert (understood.intent, understood.wanted_language) == (Intent.LANGUAGE, language)
    assert understand("giúp em với").intent is Intent.HELP  # alone, it asks for help


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # erasing, however it is put
        ("erase all my data please", Intent.FORGET),
        ("i want my personal data deleted", Intent.FORGET),
        ("remove my phone number from your system", Intent.FORGET),
        # a complaint or praise said as a statement about the visit
        ("the officer was very kind and patient", Intent.FEEDBACK),
        ("the process is way too slow", Intent.FEEDBACK),
        ("very bad experience at the office today 😡", Intent.FEEDBACK),
        ("i would like to make a complaint about the fee", Intent.FEEDBACK),
        # a language named in a question about something else is no switch
        ("how do i get a vietnamese driving license", Intent.UNKNOWN),
        ("where is my hotel", Intent.UNKNOWN),
        ("what is the waiting time for my passport", Intent.STATUS),
    ],
)
def test_kinds_of_english_phrasing_an_audit_found_misread(text: str, intent: Intent) -> None:
    assert understand(text).intent is intent


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("i dont speak vietnamese", "en"),
        ("i don't understand vietnamese", "en"),
        ("english please, i cant read vietnamese", "en"),
        ("i don't speak english", "vi"),
        ("change to vietnamese", "vi"),
    ],
)
def test_the_language_asked_for_is_the_longest_phrase_found(text: str, language: str) -> None:
    understood = understand(text)
    assert (understood.intent, understood.wanted_language) == (Intent.LANGUAGE, language)


def test_a_keyword_written_twice_in_the_file_counts_once() -> None:
    # "dừng" and "đừng" are both weak stop words; folded they are one word, weighed once
    assert understand("dung").score < 2


def test_a_typo_of_a_longer_word_is_corrected() -> None:
    assert understand("thnaks").intent is Intent.THANKS
    assert understand("huong dan su dugn").intent is Intent.HELP


@pytest.mark.parametrize(
    ("text", "pin"),
    [
        ("728508", "728508"),
        ("728 508", "728508"),
        ("72.85.08", "728508"),
        ("72-85-08", "728508"),
        ("mã pin của em là 728 508 ạ", "728508"),
        ("PIN: 4471", "4471"),
    ],
)
def test_a_pin_is_found_with_spaces_dots_and_dashes(text: str, pin: str) -> None:
    understood = understand(text)
    assert (understood.intent, understood.pin) == (Intent.PIN, pin)


def test_numbers_inside_sentences_are_not_pins() -> None:
    assert understand("con tôi 12 tuổi làm hộ chiếu ở đâu").intent is not Intent.PIN
    assert understand("123").intent is not Intent.PIN  # too short for a PIN


@pytest.mark.parametrize("text", ["0912345678", "sđt của em 0912.345.678", "+84 912 345 678"])
def test_a_typed_phone_number_is_recognised_and_not_kept(text: str) -> None:
    understood = understand(text)
    assert understood.intent is Intent.PHONE
    assert "912" not in repr(understood)


def test_slots_of_stop_language_and_feedback() -> None:
    assert understand("tắt hết thông báo").all_dossiers
    assert not understand("tắt thông báo").all_dossiers
    assert understand("chuyển sang tiếng anh").wanted_language == "en"
    assert understand("nói tiếng việt đi").wanted_language == "vi"
    complaint = understand("tôi muốn khiếu nại cán bộ hách dịch")
    assert complaint.intent is Intent.FEEDBACK and complaint.complaint and complaint.substantial
    bare = understand("góp ý")
    assert bare.intent is Intent.FEEDBACK and not bare.substantial


def test_the_language_of_a_message() -> None:
    assert understand("when will my dossier be ready").language == "en"
    assert understand("ho so cua toi xong chua").language == "vi"
    assert understand("hồ sơ").language == "vi"
    assert understand("ok").language is None
    assert understand("🙏").language is None


@pytest.mark.parametrize("word", ["hi", "help", "thanks", "hello", "menu", "status"])
def test_one_short_english_word_does_not_tell_the_language(word: str) -> None:
    assert understand(word).language is None
    assert understand(f"{word} please tell me").language == "en"


def test_a_code_wins_over_every_word() -> None:
    understood = understand("khiếu nại, cảm ơn, lệ phí 000.00.53.H48-220921-0099 bao nhiêu")
    assert understood.intent is Intent.LOOKUP
    assert [str(c) for c in understood.codes] == ["000.00.53.H48-220921-0099"]


def test_an_office_adds_its_own_phrase_in_a_data_file() -> None:
    text = "cho hỏi về sổ hồng"
    assert default_matcher().understand(text).intent is not Intent.PICKUP
    extra = load_phrase_file('language = "vi"\n[intents.pickup]\nstrong = ["sổ hồng"]\n')
    matcher = Matcher([*bundled_phrase_files(), extra])
    assert matcher.understand(text).intent is Intent.PICKUP


def test_a_phrase_file_with_an_unknown_intent_or_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="weather"):
        load_phrase_file('language = "vi"\n[intents.weather]\nstrong = ["mưa"]\n')
    with pytest.raises(ValueError, match="huge"):
        load_phrase_file('language = "vi"\n[intents.help]\nhuge = ["x"]\n')


@pytest.mark.parametrize(
    "text",
    [
        "hồ sơ " * 2000,
        "😀😃😄😁😆😅🤣😂",
        "Привет 你好 hồ sơ مرحبا",
        "a\x00b\x07c\u200bd\u202e",
        "\U0001f44d" * 500,
        "9" * 5000,
    ],
)
def test_hostile_input_is_understood_as_something(text: str) -> None:
    assert isinstance(understand(text).intent, Intent)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_at_all(text: str) -> None:
    understood = understand(text)
    assert isinstance(understood.intent, Intent)


@pytest.mark.parametrize("text", ["thôi", "hủy", "e muốn hủy", "thoi khoi", "cancel", "never mind"])
def test_never_mind_is_told_apart(text: str) -> None:
    assert understand(text).cancel


@pytest.mark.parametrize("text", ["thôi đừng báo nữa", "hủy đăng ký nhận tin", "ok"])
def test_a_request_is_not_a_never_mind(text: str) -> None:
    assert not understand(text).cancel


def test_a_bare_acknowledgement_is_told_apart_from_a_message() -> None:
    for bare in ("ok", "👍", "dạ vâng ạ", "chào ad", "cảm ơn"):
        assert understand(bare).only_courtesy, bare
    for message in ("cảm ơn cán bộ quầy 3 đã hướng dẫn rất nhiệt tình", "hồ sơ xong chưa"):
        assert not understand(message).only_courtesy, message
