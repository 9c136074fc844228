"""Reply → Zalo consultation messages (the ``message`` object of ``POST /v3.0/oa/message/cs``).

- Text is cut at Zalo's 2,000-character limit, at a line break or a space where possible
  (counted after NFC normalisation, as Zalo counts).
- Buttons become template buttons of type ``oa.query.hide``: pressing one sends its payload
  back as a hidden ``user_send_text`` (see `inbound.PAYLOAD_PREFIX`). They go under the last
  piece of text, at most `MAX_BUTTONS` per message; further buttons follow in messages of
  their own. Zalo cannot edit a sent message, so `Reply.edit` is ignored.
- `Reply.request_phone` adds Zalo's information request (template ``request_user_info``); the
  user's answer arrives as the ``user_submit_info`` event. The reply's own "share my phone"
  button only labels that request.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from bot.channels.text import is_contact_button
from bot.channels.text import split_text as split_to_fit
from bot.channels.zalo.inbound import PAYLOAD_PREFIX
from bot.i18n import gettext_for
from bot.messages import Button, Reply

log = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
MAX_BUTTON_PAYLOAD = 1000
MAX_INFO_TITLE = 100
MAX_INFO_SUBTITLE = 500
QUERY_BUTTON = "oa.query.hide"
# A button that sends its payload as visible text from the user: the menu's labels.
SHOWN_QUERY_BUTTON = "oa.query.show"

Message = dict[str, Any]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` (NFC) in pieces of at most `limit` characters, cut at line or word boundaries."""
    return split_to_fit(unicodedata.normalize("NFC", text), limit)


def _button(button: Button) -> dict[str, Any] | None:
    payload = PAYLOAD_PREFIX + button.payload
    if not button.payload or len(payload) > MAX_BUTTON_PAYLOAD:
        log.warning("zalo: button dropped, payload of %d characters", len(payload))
        return None
    title = unicodedata.normalize("NFC", button.label)[:MAX_BUTTON_TITLE]
    return {"title": title, "type": QUERY_BUTTON, "payload": payload}


def _menu_button(label: str) -> dict[str, Any]:
    title = unicodedata.normalize("NFC", label)[:MAX_BUTTON_TITLE]
    return {"title": title, "type": SHOWN_QUERY_BUTTON, "payload": title}


def _with_buttons(text: str, buttons: list[dict[str, Any]]) -> Message:
    if not buttons:
        return {"text": text}
    return {
        "text": text,
        "attachment": {"type": "template", "payload": {"buttons": buttons}},
    }


def info_request(title: str, subtitle: str, image_url: str | None = None) -> Message:
    """Zalo's request for the user's information (they choose to share their phone)."""
    element: dict[str, str] = {
        "title": unicodedata.normalize("NFC", title)[:MAX_INFO_TITLE],
        "subtitle": unicodedata.normalize("NFC", subtitle)[:MAX_INFO_SUBTITLE],
    }
    if image_url:
        element["image_url"] = image_url
    return {
        "attachment": {
            "type": "template",
            "payload": {"template_type": "request_user_info", "elements": [element]},
        }
    }


def render(
    reply: Reply, language: str = "vi", *, info_image_url: str | None = None
) -> list[Message]:
    """The Zalo messages that show `reply`, in order."""
    _ = gettext_for(language)
    buttons = [
        rendered
        for row in reply.buttons
        for button in row
        if not is_contact_button(button)
        for rendered in (_button(button),)
        if rendered is not None
    ]
    if not buttons and not reply.request_phone:
        # Zalo has no persistent keyboard for an OA chat: the menu rides under the message as
        # buttons that send their label (the OA menu itself is set in the OA admin page).
        buttons = [_menu_button(label) for label in reply.menu[:MAX_BUTTONS]]
    pieces = split_text(reply.text)
    if not pieces and not buttons and not reply.request_phone:
        log.warning("zalo: reply with empty text not sent")
        return []
    messages: list[Message] = [{"text": piece} for piece in pieces[:-1]]
    if pieces or buttons:
        last = pieces[-1] if pieces else _("Please choose:")
        groups = [buttons[i : i + MAX_BUTTONS] for i in range(0, len(buttons), MAX_BUTTONS)]
        messages.append(_with_buttons(last, groups[0] if groups else []))
        for group in groups[1:]:
            messages.append(_with_buttons(_("More options:"), group))
    if reply.request_phone:
        label = next(
            (b.label for row in reply.buttons for b in row if is_contact_button(b)),
            _("📱 Share my phone number"),
        )
        subtitle = _(
            "Share the phone number you gave when you applied, to confirm the dossier. It is "
            "kept only for notices about it, until you send /forget."
        )
        messages.append(info_request(label, subtitle, info_image_url))
    return messages
