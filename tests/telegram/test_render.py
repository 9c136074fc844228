"""Rendering replies for Telegram: splitting, keyboards, payload limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.channels.telegram.render import render, split_text, utf16_len
from bot.messages import Button, Reply

WORDS = st.text(alphabet=st.sampled_from("ab ơ\n😀x"), min_size=0, max_size=3000)


@given(WORDS, st.integers(min_value=2, max_value=200))
def test_pieces_fit_and_keep_every_visible_character(text: str, limit: int) -> None:
    pieces = split_text(text, limit)

    assert all(0 < utf16_len(piece) <= limit for piece in pieces)
    visible = "".join(c for c in text if not c.isspace())
    assert "".join(c for piece in pieces for c in piece if not c.isspace()) == visible


def test_cuts_prefer_line_breaks_then_spaces() -> None:
    assert split_text("aaaa bbbb\ncccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("abcdefghijkl", 5) == ["abcde", "fghij", "kl"]


def test_an_emoji_counts_two_units_and_is_never_cut() -> None:
    assert split_text("😀😀😀", 4) == ["😀😀", "😀"]


def test_keyboard_goes_under_the_last_piece() -> None:
    reply = Reply("a\n" * 3000, buttons=((Button("OK", "lk:1"),),))

    messages = render(reply)

    assert len(messages) == 2
    assert messages[0].markup is None
    assert isinstance(messages[1].markup, InlineKeyboardMarkup)


def test_contact_keyboard_uses_the_labelled_button_or_a_default() -> None:
    labelled = Reply("?", request_phone=True, buttons=((Button("📱 Share", "contact"),),))
    [message] = render(labelled, "en")
    assert isinstance(message.markup, ReplyKeyboardMarkup)
    [[button]] = message.markup.keyboard
    assert button.text == "📱 Share"
    assert button.request_contact

    [default] = render(Reply("?", request_phone=True), "en")
    assert isinstance(default.markup, ReplyKeyboardMarkup)
    assert default.markup.keyboard[0][0].text == "📱 Share my phone number"


def test_oversized_and_empty_payloads_are_dropped() -> None:
    reply = Reply("x", buttons=((Button("a", "é" * 33),), (Button("b", ""), Button("c", "ok"))))
    [message] = render(reply)
    assert isinstance(message.markup, InlineKeyboardMarkup)
    assert [[b.text for b in row] for row in message.markup.inline_keyboard] == [["c"]]


def test_an_empty_reply_sends_nothing() -> None:
    assert render(Reply("  \n ")) == []
