"""The channel-neutral conversation core: one Incoming in, one Response out, never a traceback.

Every channel adapter hands its citizens' messages to `ChatCore`; it cleans the text, finds the
user (creating them on first contact), routes to a handler and turns any failure into a short
polite answer in the user's language plus a log line.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable

from bot import logcontext
from bot.domain.codes import DossierCode, extract_codes, looks_like_code_attempt
from bot.handlers import basics, lookup, mine, privacy, survey, verify
from bot.handlers.common import expired_button
from bot.handlers.context import Context, Dependencies, load_user
from bot.handlers.payloads import Action, parse
from bot.i18n import N_, gettext_for, normalize_language
from bot.messages import Incoming, Reply, Response

log = logging.getLogger(__name__)

Handler = Callable[[Context, str], Awaitable[Response]]

APOLOGY = N_("Sorry, something went wrong on our side. Please try again in a few minutes.")

COMMANDS: dict[str, Handler] = {
    "start": basics.start,
    "help": basics.help_,
    "trogiup": basics.help_,
    "lang": basics.choose_language,
    "language": basics.choose_language,
    "ngonngu": basics.choose_language,
    "mine": mine.mine,
    "hoso": mine.mine,
    "forget": basics.forget,
    "xoa": basics.forget,
    "stop": mine.unsubscribe_all,
    "cancel": verify.cancel,
    "privacy": privacy.privacy,
    "quyenriengtu": privacy.privacy,
    "baomat": privacy.privacy,
}

# Commands whose answer already carries the privacy notice (no extra line at first contact).
_CARRY_PRIVACY = frozenset({"start", "privacy", "quyenriengtu", "baomat"})

BUTTONS: dict[Action, Handler] = {
    Action.LOOKUP: lookup.refresh,
    Action.VERIFY: verify.start_verification,
    Action.SUBSCRIBE: verify.subscribe,
    Action.UNSUBSCRIBE: verify.unsubscribe,
    Action.UNSUBSCRIBE_ALL: mine.unsubscribe_all_button,
    Action.MINE: mine.mine,
    Action.LANGUAGE: basics.choose_language,
    Action.FORGET_YES: basics.forget_confirmed,
    Action.FORGET_NO: basics.forget_cancelled,
    Action.CANCEL: verify.cancel,
    Action.HELP: basics.help_,
    Action.SURVEY: survey.button,
}

# Zero-width and bidirectional-control characters: invisible, and never part of a code.
_INVISIBLE = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\u00ad]")
_COMMAND = re.compile(r"^/([A-Za-z_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def clean_text(raw: str) -> str:
    """The text without invisible characters and control codes, trimmed."""
    text = _INVISIBLE.sub("", raw)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()


def _carries_privacy(incoming: Incoming) -> bool:
    command = _COMMAND.match(clean_text(incoming.text or ""))
    return command is not None and command.group(1).lower() in _CARRY_PRIVACY


class ChatCore:
    """Implements `bot.messages.MessageHandler` for every channel."""

    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    async def __call__(self, incoming: Incoming) -> Response:
        """Answer one Incoming. Never raises (but lets cancellation through)."""
        language = normalize_language(self._deps.config.default_language)
        try:
            now = self._deps.clock.now()
            codes = self._plain_codes(incoming)
            if codes:
                return await lookup.lookup_message(self._deps, incoming, codes, now)
            async with self._deps.uow_factory() as uow:
                user = await load_user(uow, incoming, language=language, now=now)
                await uow.commit()
            logcontext.bind(user_id=user.id)
            language = user.language
            ctx = Context(incoming=incoming, user=user, deps=self._deps, now=now)
            response = await self._route(ctx)
            if _carries_privacy(incoming):
                return response
            return privacy.at_first_contact(ctx, response)
        except Exception:
            log.exception("failed to handle a message on %s", incoming.channel)
            _ = gettext_for(language)
            return Response.of(Reply(_(APOLOGY)), language=language)

    def _plain_codes(self, incoming: Incoming) -> list[DossierCode]:
        """The codes in a plain text message (no button, command or oversized text)."""
        if incoming.text is None or incoming.payload or incoming.phone or incoming.attachment:
            return []
        if len(incoming.text) > self._deps.config.max_text_length:
            return []
        text = clean_text(incoming.text)
        if not text or text.startswith("/"):
            return []
        return extract_codes(text)

    async def _route(self, ctx: Context) -> Response:
        incoming = ctx.incoming
        if incoming.payload is not None:
            return await self._button(ctx, incoming.payload)
        if incoming.phone is not None:
            return await verify.phone_shared(ctx, incoming.phone)
        if incoming.attachment is not None:
            return basics.attachment(ctx, incoming.attachment)
        raw = incoming.text or ""
        if len(raw) > ctx.config.max_text_length * 4:
            return basics.too_long(ctx)
        text = clean_text(raw)
        if not text:
            return basics.empty(ctx)
        if len(text) > ctx.config.max_text_length:
            return basics.too_long(ctx)
        command = _COMMAND.match(text)
        if command is not None:
            return await self._command(
                ctx, command.group(1).lower(), (command.group(2) or "").strip()
            )
        codes = extract_codes(text)
        if codes:
            return await lookup.lookup_codes(ctx, codes)
        pin = await verify.pin_entered(ctx, text)
        if pin is not None:
            return pin
        comment = await survey.text_entered(ctx, text)
        if comment is not None:
            return comment
        return basics.not_understood(ctx, looks_like_code_attempt(text))

    async def _command(self, ctx: Context, name: str, argument: str) -> Response:
        if name == "start" and argument:
            return await verify.deep_link(ctx, argument)
        handler = COMMANDS.get(name)
        if handler is None:
            log.info("unknown command from user %s", ctx.user.id)
            return basics.unknown_command(ctx, name)
        return await handler(ctx, argument)

    async def _button(self, ctx: Context, payload: str) -> Response:
        parsed = parse(payload)
        if parsed is None or parsed[0] not in BUTTONS:
            log.info("stale or unknown button payload from user %s", ctx.user.id)
            return expired_button(ctx)
        action, argument = parsed
        return await BUTTONS[action](ctx, argument)
