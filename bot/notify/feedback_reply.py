"""The ``feedback_reply`` notice: an official's answer to a citizen's feedback or complaint,
sent from the workspace (``/office/feedback``) through the outbox to the chat they wrote from.

Params: ``text`` (the official's words, as written), ``agency`` (the answering agency's name,
may be empty), ``item`` (the feedback item's number, which the citizen can quote at the desk).
The composition root maps the kind to `render_feedback_reply` (`notice_renderers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.notice_kinds import NoticeKind
from bot.messages import Reply
from bot.notify.rendering import RenderContext

FEEDBACK_REPLY = NoticeKind.FEEDBACK_REPLY
# Telegram takes 4096 characters a message; the header and footer fit in the rest.
MAX_REPLY_CHARS = 3000


def render_feedback_reply(params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]:
    """The official's reply, introduced by who answers and which feedback it answers."""
    _ = ctx._
    agency = str(params.get("agency") or "").strip()
    item = params.get("item")
    if agency:
        head = _("💬 {agency} has answered your feedback (no. {item}):").format(
            agency=agency, item=item
        )
    else:
        head = _("💬 The one-stop-shop office has answered your feedback (no. {item}):").format(
            item=item
        )
    text = str(params.get("text") or "").strip()[:MAX_REPLY_CHARS]
    return [Reply(f"{head}\n\n{text}")]
