"""Zalo webhook events → `Incoming`.

Events the bot answers (payload shapes of the OA Open API v3 webhooks):

- ``user_send_text``: ``sender.id`` is the user, ``message.text`` and ``message.msg_id``.
  A pressed ``oa.query.hide`` button arrives the same way, its payload as the text (hidden
  in the user's chat). The bot prefixes every button payload with `PAYLOAD_PREFIX`, so such a
  text becomes `Incoming.payload`; someone typing the prefix gains nothing, because every
  handler re-checks what a payload asks for.
- ``follow``: ``follower.id`` is the user; answered like ``/start`` (the greeting).
- ``user_send_image`` (and the other media events): an `Attachment`, answered politely.
- ``user_submit_info``: the answer to the bot's information request; ``info.phone`` is the
  number the user chose to share, which Zalo vouches for as theirs → `Incoming.phone`.

Everything else (unfollow, OA echoes ``oa_send_*``, tags, …) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.messages import Attachment, Channel, Incoming

CHANNEL = Channel.ZALO.value
PAYLOAD_PREFIX = "#mc:"
GREETING = "/start"

_MEDIA: dict[str, Attachment] = {
    "user_send_image": Attachment.IMAGE,
    "user_send_gif": Attachment.IMAGE,
    "user_send_sticker": Attachment.STICKER,
    "user_send_file": Attachment.FILE,
    "user_send_video": Attachment.FILE,
    "user_send_audio": Attachment.VOICE,
    "user_send_location": Attachment.LOCATION,
    "user_send_link": Attachment.OTHER,
    "user_send_business_card": Attachment.FOREIGN_CONTACT,
}
_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


class MalformedEvent(ValueError):
    """The body is not a Zalo event the adapter can read."""


@dataclass(frozen=True, slots=True)
class ZaloEvent:
    """One webhook delivery: its name, the user it concerns, and what the bot answers.

    `key` identifies the delivery for de-duplication (the message id when there is one).
    `incoming` is None for events the bot ignores.
    """

    name: str
    key: str
    user_id: str | None
    incoming: Incoming | None


def parse_event(data: Any) -> ZaloEvent:
    """Read a decoded webhook body; MalformedEvent if it is not a Zalo event."""
    if not isinstance(data, dict):
        raise MalformedEvent("an event is a JSON object")
    name = data.get("event_name")
    if not isinstance(name, str) or not name:
        raise MalformedEvent("no event_name")
    user_id = _user_id(data, name)
    key = _event_key(data, name, user_id)
    incoming = _incoming(data, name, user_id) if user_id is not None else None
    return ZaloEvent(name=name, key=key, user_id=user_id, incoming=incoming)


def _user_id(data: dict[str, Any], name: str) -> str | None:
    holder = data.get("follower") if name in ("follow", "unfollow") else data.get("sender")
    if not isinstance(holder, dict):
        return None
    value = holder.get("id")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not _ID.match(value):
        return None
    return value


def _message(data: dict[str, Any]) -> dict[str, Any]:
    message = data.get("message")
    return message if isinstance(message, dict) else {}


def _event_key(data: dict[str, Any], name: str, user_id: str | None) -> str:
    msg_id = _message(data).get("msg_id")
    if isinstance(msg_id, str | int) and str(msg_id):
        return f"msg:{msg_id}"[:160]
    # Events without a message id (follow, user_submit_info): the same user, event and
    # timestamp is the same delivery.
    return f"{name}:{user_id or '-'}:{data.get('timestamp', '-')}"[:160]


def _incoming(data: dict[str, Any], name: str, user_id: str) -> Incoming | None:
    if name == "user_send_text":
        text = _message(data).get("text")
        if not isinstance(text, str):
            return None
        if text.startswith(PAYLOAD_PREFIX):
            return Incoming(CHANNEL, user_id, payload=text[len(PAYLOAD_PREFIX) :])
        return Incoming(CHANNEL, user_id, text=text)
    if name == "follow":
        return Incoming(CHANNEL, user_id, text=GREETING)
    if name == "user_submit_info":
        info = data.get("info")
        phone = normalize_phone(info.get("phone")) if isinstance(info, dict) else None
        if phone is None:
            return None
        return Incoming(CHANNEL, user_id, phone=phone)
    attachment = _MEDIA.get(name)
    if attachment is not None:
        return Incoming(CHANNEL, user_id, attachment=attachment.value)
    return None


def normalize_phone(value: object) -> str | None:
    """A Vietnamese number as ``+84…`` (the case API's form), or None if it is not one.

    Zalo gives ``84912345678``; people write ``0912 345 678`` or ``+84 912…``.
    """
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    digits = re.sub(r"[\s.()-]", "", value)
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return None
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    if not digits.startswith("84") or not 10 <= len(digits) <= 12:
        return None
    return "+" + digits


def zns_phone(phone: str) -> str | None:
    """The ``84…`` form ZNS wants, or None if `phone` is not a Vietnamese number."""
    normalized = normalize_phone(phone)
    return normalized[1:] if normalized is not None else None
