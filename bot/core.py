"""The channel-neutral conversation core: one Incoming in, one Response out, never a traceback.

Every channel adapter hands its citizens' messages to `ChatCore`. For a typed message it first
cleans the text and understands it (`bot.understanding`: an intent and its slots, pure and
fast); then it finds the user (creating them on first contact) — for a lookup together with
their ownership of the first code, in one statement — and routes to one handler. Any failure
becomes a short polite answer in the user's language plus a log line.

There is one way to each answer: a dossier code anywhere in a message goes to
`lookup.lookup_codes`, whether typed alone or inside a sentence.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import logcontext
from bot.domain.codes import looks_like_code_attempt
from bot.handlers import (
    basics,
    conversation,
    feedback,
    lookup,
    mine,
    office,
    privacy,
    survey,
    topic,
    verify,
)
from bot.handlers.common import (
    FEEDBACK_LABEL,
    LOOKUP_LABEL,
    MINE_LABEL,
    expired_button,
    menu,
    menu_choice,
    menu_in,
)
from bot.handlers.context import Context, Dependencies, load_user, load_user_with_ownership
from bot.i18n import N_, gettext_for, normalize_language
from bot.messages import Incoming, Reply, Response
from bot.payloads import Action, parse
from bot.understanding import Intent, Understanding

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
    Action.DISMISS: conversation.dismissed,
}

# Intents answered the same way whatever the message said beyond its intent.
SIMPLE_INTENTS: dict[Intent, Callable[[Context], Awaitable[Response]]] = {
    Intent.STATUS: conversation.status,
    Intent.PICKUP: office.pickup,
    Intent.FEE: office.fee,
    Intent.CONTACT: office.contact,
    Intent.GREETING: conversation.greeting,
    Intent.THANKS: conversation.thanks,
    Intent.PHONE: verify.phone_typed,
}

# Zero-width and bidirectional-control characters: invisible, and never part of a code.
_INVISIBLE = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\u00ad]")
_COMMAND = re.compile(r"^/([A-Za-z_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def clean_text(raw: str) -> str:
    """The text without invisible characters and control codes, trimmed."""
    text = _INVISIBLE.sub("", raw)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()


@dataclass(frozen=True, slots=True)
class Typed:
    """A typed message, read before the user is loaded: cleaned, and what it means.

    `problem` is "empty" or "too_long" for text the bot does not read as a question (a too
    long one keeps its text, and what its beginning says, in case it is feedback); `command`
    the name and argument of a slash command; otherwise `understood` says what it asks for.
    """

    text: str
    problem: str | None = None
    command: tuple[str, str] | None = None
    understood: Understanding | None = None


class ChatCore:
    """Implements `bot.messages.MessageHandler` for every channel."""

    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    async def __call__(self, incoming: Incoming) -> Response:
        """Answer one Incoming. Never raises (but lets cancellation through)."""
        language = normalize_language(self._deps.config.default_language)
        try:
            now = self._deps.clock.now()
            typed = self._read(incoming)
            codes = (
                typed.understood.codes
                if typed and typed.understood and typed.problem is None
                else ()
            )
            async with self._deps.uow_factory() as uow:
                if codes:
                    first = str(codes[0])
                    user, owned = await load_user_with_ownership(
                        uow, incoming, first, language=language, now=now
                    )
                    ctx = Context(incoming=incoming, user=user, deps=self._deps, now=now)
                    # The lookup's reservations go in this same transaction (the hot path);
                    # the router's lookup branch answers from them.
                    ctx.reserved_lookup = await lookup.reserve(
                        uow, ctx, list(codes), known={first: owned}
                    )
                else:
                    user = await load_user(uow, incoming, language=language, now=now)
                    ctx = Context(incoming=incoming, user=user, deps=self._deps, now=now)
                await uow.commit()
            logcontext.bind(user_id=user.id)
            language = user.language
            response = await self._answer(ctx, typed)
            return dataclasses.replace(response, menu=menu_in(response.language))
        except Exception:
            log.exception("failed to handle a message on %s", incoming.channel)
            _ = gettext_for(language)
            return Response.of(Reply(_(APOLOGY)), language=language)

    async def _answer(self, ctx: Context, typed: Typed | None) -> Response:
        """The answer to a typed message (or to a button, a shared phone, an attachment),
        with the one-line privacy notice at first contact where it does not carry it."""
        if typed is None:
            return privacy.at_first_contact(ctx, await self._event(ctx))
        response = await self._typed(ctx, typed)
        if typed.command is not None and typed.command[0] in _CARRY_PRIVACY:
            return response
        if typed.understood is not None and typed.understood.intent is Intent.PRIVACY:
            return response
        return privacy.at_first_contact(ctx, response)

    def _read(self, incoming: Incoming) -> Typed | None:
        """The typed message, or None for a button, a shared phone number or an attachment."""
        if incoming.payload is not None or incoming.phone is not None:
            return None
        if incoming.attachment is not None or incoming.text is None:
            return None
        limit = self._deps.config.max_text_length
        # Bounded work on hostile input: what is beyond four times the limit is not even read
        # (the storage keeps at most MAX_FEEDBACK_TEXT of it anyway).
        raw = incoming.text[: limit * 4 + 1]
        text = clean_text(raw)
        if not text:
            return Typed("", problem="empty")
        if len(text) > limit:
            return Typed(
                text, problem="too_long", understood=self._deps.matcher.understand(text[:limit])
            )
        command = _COMMAND.match(text)
        if command is not None:
            name, argument = command.group(1).lower(), (command.group(2) or "").strip()
            return Typed(text, command=(name, argument))
        return Typed(text, understood=self._deps.matcher.understand(text))

    async def _event(self, ctx: Context) -> Response:
        incoming = ctx.incoming
        if incoming.payload is not None:
            return await self._button(ctx, incoming.payload)
        if incoming.phone is not None:
            return await verify.phone_shared(ctx, incoming.phone)
        return basics.attachment(ctx, incoming.attachment or "other")

    async def _typed(self, ctx: Context, typed: Typed) -> Response:
        if typed.problem == "too_long":
            return await self._too_long(ctx, typed)
        if typed.problem == "empty":
            return basics.empty(ctx)
        if typed.command is not None:
            return await self._command(ctx, *typed.command)
        understood = typed.understood
        assert understood is not None
        if understood.intent is Intent.LOOKUP:
            return await lookup.lookup_codes(ctx, list(understood.codes))
        if understood.intent is Intent.PIN and understood.pin is not None:
            return await verify.pin_entered(ctx, understood.pin)
        choice = menu_choice(typed.text)
        if choice is not None:
            return await self._menu(ctx, choice)
        comment = await survey.text_entered(ctx, typed.text)
        if comment is not None:
            return comment
        state = await topic.current(ctx)
        if state is not None and state.kind == topic.AWAITING_PROOF and understood.cancel:
            return await verify.cancel(ctx, "")
        if state is not None and state.kind == topic.AWAITING_FEEDBACK:
            return await feedback.while_waiting(ctx, typed.text, understood, state)
        written_in = understood.language
        if written_in is not None and written_in != ctx.language:
            # Writing in the other language is a strong hint: answer in it, offer to switch.
            other = dataclasses.replace(
                ctx, user=dataclasses.replace(ctx.user, language=written_in)
            )
            answer = await self._intent(other, typed.text, understood)
            # The persistent menu stays in the user's language until they switch: a menu
            # keyboard, once shown, stays on Telegram.
            own_menu = menu(ctx)
            answer = dataclasses.replace(
                answer,
                replies=tuple(
                    dataclasses.replace(r, menu=own_menu) if r.menu else r for r in answer.replies
                ),
            )
            if understood.intent in (Intent.LANGUAGE, Intent.THANKS, Intent.GREETING):
                return answer  # no offer under a switch itself, a "thanks" or a "hi"
            offer = conversation.language_offer(written_in)
            return dataclasses.replace(answer, replies=(*answer.replies, offer))
        return await self._intent(ctx, typed.text, understood)

    async def _menu(self, ctx: Context, choice: str) -> Response:
        """A menu entry tapped (or its words typed): what it says, whatever was going on; a
        wait for a PIN or a feedback text ends, except by "Feedback" itself."""
        if choice == FEEDBACK_LABEL:
            return await feedback.ask_for_feedback(ctx)
        await topic.end_wait(ctx)
        if choice == LOOKUP_LABEL:
            return conversation.ask_for_code(ctx)
        if choice == MINE_LABEL:
            return await mine.mine(ctx, "")
        return await basics.help_(ctx, "")

    async def _too_long(self, ctx: Context, typed: Typed) -> Response:
        """A message longer than the bot reads: kept (cut to the feedback limit, and said so)
        when the citizen is writing feedback or it reads as feedback or a complaint; otherwise
        a polite answer saying what to do."""
        understood = typed.understood
        state = await topic.current(ctx)
        if state is not None and state.kind == topic.AWAITING_FEEDBACK:
            complaint = feedback.is_complaint(state) or (
                understood is not None and understood.complaint
            )
            return await feedback.store_feedback(ctx, typed.text, complaint=complaint)
        if understood is not None and Intent.FEEDBACK in understood.reached:
            return await feedback.store_feedback(ctx, typed.text, complaint=understood.complaint)
        return basics.too_long(ctx)

    async def _intent(self, ctx: Context, text: str, understood: Understanding) -> Response:
        intent = understood.intent
        simple = SIMPLE_INTENTS.get(intent)
        if simple is not None:
            return await simple(ctx)
        if intent is Intent.HELP:
            return await basics.help_(ctx, "")
        if intent is Intent.PRIVACY:
            return await privacy.privacy(ctx, "")
        if intent is Intent.STOP:
            return await conversation.stop(ctx, all_dossiers=understood.all_dossiers)
        if intent is Intent.FORGET:
            return await basics.forget(ctx, "")
        if intent is Intent.LANGUAGE:
            return await basics.choose_language(ctx, understood.wanted_language or "")
        if intent is Intent.FEEDBACK:
            if understood.substantial:
                return await feedback.store_feedback(ctx, text, complaint=understood.complaint)
            return await feedback.ask_for_feedback(ctx, complaint=understood.complaint)
        if intent is Intent.PIN:  # digits but no PIN slot: cannot happen; treat as unknown
            log.warning("PIN intent without a PIN")
        looks_like_code = looks_like_code_attempt(text)
        noted = bool(understood.tokens) and not looks_like_code
        if noted:
            # words we could not place (not a mistyped code): keep them for the office
            await feedback.remember_unanswered(ctx, text)
        return conversation.not_understood(ctx, looks_like_code=looks_like_code, noted=noted)

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
