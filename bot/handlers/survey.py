"""The satisfaction survey in the chat: the invitation, then one question at a time.

The invitation (notice kind ``survey_invitation``) carries the quick 3-level rating as
buttons, so one tap is an answer. That tap opens a session (one per dossier, in the database,
so any process continues it); every later button is ``sv:<code>:<op><question>:<value>`` with
op ``a`` (answer), ``s`` (skip), ``b`` (back) or ``x`` (stop). Each answer is stored as it is
given. The user is checked against the session on every step, so a forged or stale button
gets a polite answer and changes nothing. Comments are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from bot import payloads
from bot.domain.codes import InvalidCode, parse_code
from bot.domain.status import Status
from bot.handlers.common import case_system_busy, expired_button, respond, text
from bot.handlers.context import Context
from bot.i18n import Gettext
from bot.messages import Button, Reply, Response
from bot.notify.rendering import RenderContext
from bot.payloads import Action
from bot.ports import CaseApiUnavailable, DossierNotFound, SurveyAlreadyStarted, SurveyRepository
from surveys import flow
from surveys.definitions import AnswerValue, Catalog, Definition, Question, default_catalog
from surveys.model import DossierFacts, Session

log = logging.getLogger(__name__)

_OPS = frozenset("asbx")


def _rating3_labels(_: Gettext) -> dict[int, str]:
    return {3: _("😄 Very satisfied"), 2: _("🙂 Satisfied"), 1: _("🙁 Not satisfied")}


def _scale5_labels() -> dict[int, str]:
    return {1: "1 😠", 2: "2 🙁", 3: "3 😐", 4: "4 🙂", 5: "5 😄"}


def _payload(code: str, op: str, index: int, value: str = "") -> str:
    return payloads.make(Action.SURVEY, f"{code}:{op}{index}:{value}")


def catalog() -> Catalog:
    """The survey definitions in use."""
    return default_catalog()


# --------------------------------------------------------------------------- invitation


def anonymity(_: Gettext) -> str:
    """Exactly how answers are stored (surveys/storage/repository.py, design §6)."""
    return _(
        "Your answers are stored with the agency, the procedure and the month only, under a "
        "coded fingerprint of the dossier code that lets each dossier be surveyed once — never "
        "with your chat account or the dossier code itself."
    )


def render_invitation(params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]:
    """Thanks for collecting the result, and the one-tap rating (the survey's first answer)."""
    _ = ctx._
    code = str(params["code"])
    message = "\n\n".join(
        [
            _(
                "✅ The result of dossier {code} has been handed over. Thank you for using our "
                "services!"
            ).format(code=code),
            _("How satisfied are you with how your dossier was handled? One tap is enough."),
            anonymity(_),
        ]
    )
    rows = tuple(
        (Button(label, _payload(code, "a", 0, str(value))),)
        for value, label in _rating3_labels(_).items()
    )
    return (Reply(message, buttons=rows),)


# --------------------------------------------------------------------------- showing questions


def _heading(ctx: Context, definition: Definition, question: Question, code: str) -> str:
    """The survey's heading, numbered as the offer counts the questions ("question 2 of 5")."""
    numbered = definition.numbered
    if question.id not in numbered:
        return ctx._("📋 Survey on dossier {code}").format(code=code)
    return ctx._("📋 Survey on dossier {code} — question {number} of {total}").format(
        code=code, number=numbered.index(question.id) + 1, total=len(numbered)
    )


def acknowledgement(ctx: Context, question: Question, value: AnswerValue) -> str | None:
    """What to say about the answer just given: sorry after a low rating, thanks otherwise
    for the one-tap rating and for a comment; nothing after an ordinary step."""
    _ = ctx._
    low = (question.type == "rating3" and value == 1) or (
        question.type == "scale5" and isinstance(value, int) and value <= 2
    )
    if low:
        return _("We are sorry this did not satisfy you.")
    if question.type == "rating3":
        return _("Thank you for your rating!")
    if question.type == "text":
        return _("Thank you for telling us; the office will look into it.")
    return None


def _question_reply(
    ctx: Context,
    definition: Definition,
    progress: flow.Progress,
    code: str,
    *,
    edit: bool,
    lead: str | None = None,
) -> Reply:
    _ = ctx._
    assert progress.current is not None
    question = definition.question(progress.current)
    index = definition.index_of(question.id)
    lines = [_heading(ctx, definition, question, code), ""]
    if lead:
        lines.append(lead)
    lines.append(question.text.get(ctx.language))
    rows: list[tuple[Button, ...]] = []
    if question.type == "rating3":
        rows += [
            (Button(label, _payload(code, "a", index, str(value))),)
            for value, label in _rating3_labels(_).items()
        ]
    elif question.type == "scale5":
        lines.append(_("(1 = very dissatisfied … 5 = very satisfied)"))
        rows.append(
            tuple(
                Button(label, _payload(code, "a", index, str(value)))
                for value, label in _scale5_labels().items()
            )
        )
    elif question.type == "choice":
        rows += [
            (Button(option.text.get(ctx.language), _payload(code, "a", index, str(i))),)
            for i, option in enumerate(question.options)
        ]
    else:
        lines.append(_("Type your answer as a message."))
    previous = progress.answers.get(question.id)
    if previous is not None and question.type != "text":
        lines.append(
            _("Your earlier answer: {answer}").format(answer=_shown(ctx, question, previous))
        )
    navigation: list[Button] = []
    if progress.history:
        navigation.append(Button(_("◀ Back"), _payload(code, "b", index)))
    if not question.required:
        navigation.append(Button(_("Skip ▶"), _payload(code, "s", index)))
    if navigation:
        rows.append(tuple(navigation))
    rows.append((Button(_("✖ Stop the survey"), _payload(code, "x", index)),))
    return Reply("\n".join(lines), buttons=tuple(rows), edit=edit)


def _shown(ctx: Context, question: Question, value: AnswerValue) -> str:
    if question.type == "rating3" and isinstance(value, int):
        return _rating3_labels(ctx._).get(value, str(value))
    if question.type == "choice":
        for option in question.options:
            if option.id == value:
                return option.text.get(ctx.language)
    return str(value)


def _thanks(ctx: Context, *, edit: bool, lead: str | None = None) -> Reply:
    lines = [lead] if lead else []
    lines += [
        ctx._("🙏 Thank you for your answers! They help the office serve citizens better."),
        anonymity(ctx._),
    ]
    return Reply("\n".join(lines), edit=edit)


def _closed(ctx: Context) -> Response:
    return text(ctx, ctx._("This survey has closed. Thank you all the same!"))


# --------------------------------------------------------------------------- buttons


def _parse(argument: str) -> tuple[str, str, int, str] | None:
    parts = argument.split(":")
    if len(parts) != 3:
        return None
    code_text, step, value = parts
    if len(step) < 2 or step[0] not in _OPS or not step[1:].isdigit():
        return None
    try:
        code = str(parse_code(code_text))
    except InvalidCode:
        return None
    return code, step[0], int(step[1:]), value


def _decode(question: Question, raw: str) -> AnswerValue | None:
    if question.type in ("scale5", "rating3"):
        return int(raw) if raw.isdigit() and len(raw) == 1 else None
    if question.type == "choice" and raw.isdigit() and int(raw) < len(question.options):
        return question.options[int(raw)].id
    return None


async def button(ctx: Context, argument: str) -> Response:
    """A survey button: the first tap starts the survey, later ones step through it."""
    parsed = _parse(argument)
    if parsed is None:
        return expired_button(ctx)
    code, op, index, raw = parsed
    async with ctx.tx() as uow:
        repo = uow.surveys
        session = await repo.session(code)
        if session is not None and session.user_id == ctx.user.id:
            return await _step(ctx, repo, session, op, index, raw)
        answered = await repo.response_exists(code)
        owner = await uow.owners.is_owner(ctx.user.id, code)
    if session is not None:
        return expired_button(ctx)
    if answered:
        return respond(ctx, notice=ctx._("This survey has already been answered. Thank you!"))
    if op == "a" and index == 0 and owner:
        return await _start(ctx, code, raw)
    log.info("survey button for a dossier without a survey, user %s", ctx.user.id)
    return expired_button(ctx)


async def _start(ctx: Context, code: str, raw: str) -> Response:
    _ = ctx._
    try:
        dossier = await ctx.case_api.get_dossier(code)
    except DossierNotFound:
        return expired_button(ctx)
    except CaseApiUnavailable:
        return text(ctx, case_system_busy(ctx))
    if dossier.status != Status.RETURNED:
        return text(ctx, _("The survey opens once you have received the result. Thank you!"))
    returned_at = dossier.returned_at or dossier.status_changed_at
    open_for = timedelta(seconds=ctx.config.survey_ttl_seconds + ctx.config.survey_delay_seconds)
    if ctx.now > returned_at + open_for:
        return _closed(ctx)
    facts = DossierFacts.of(dossier)
    definition = catalog().for_dossier(facts.procedure_code, facts.field)
    value = _decode(definition.questions[0], raw)
    if value is None:
        return expired_button(ctx)
    step = flow.begin(definition, value)
    ttl = timedelta(seconds=ctx.config.survey_ttl_seconds)
    try:
        async with ctx.tx() as uow:
            repo = uow.surveys
            if not await uow.owners.is_owner(ctx.user.id, code) or await repo.response_exists(code):
                return expired_button(ctx)
            key = await repo.start(
                facts,
                survey_id=definition.id,
                user_id=ctx.user.id,
                now=ctx.now,
                expires_at=ctx.now + ttl,
                tz=ctx.config.tz,
            )
            session = Session(
                code, ctx.user.id, definition.id, key, flow.Progress(None), ctx.now + ttl
            )
            await _store(repo, session, definition, step, ctx)
    except SurveyAlreadyStarted:
        # Another tap (or a co-owner) started the same dossier's survey a moment earlier.
        return respond(ctx, notice=_("This survey has already been answered. Thank you!"))
    log.info("survey %s started for dossier %s", definition.id, code)
    return _after(ctx, definition, step, code, edit=False)


async def _step(
    ctx: Context, repo: SurveyRepository, session: Session, op: str, index: int, raw: str
) -> Response:
    """One button inside an open session, in the transaction that loaded it."""
    _ = ctx._
    code = session.dossier_code
    definition = catalog().get(session.survey_id)
    current = session.progress.current
    if session.expires_at <= ctx.now or definition is None or current is None:
        await repo.close(code)
        return _closed(ctx)
    if op == "x":
        await repo.close(code)
        return respond(ctx, _thanks(ctx, edit=True), notice=_("Survey stopped."))
    try:
        expected = definition.index_of(current)
    except KeyError:
        await repo.close(code)
        return _closed(ctx)
    if index != expected:
        return respond(
            ctx,
            _question_reply(ctx, definition, session.progress, code, edit=False),
            notice=_("That question has already moved on; here is the current one."),
        )
    question = definition.question(current)
    try:
        if op == "b":
            step = flow.back(definition, session.progress)
        elif op == "s":
            step = flow.skip(definition, session.progress)
        else:
            value = _decode(question, raw)
            if value is None:
                return expired_button(ctx)
            step = flow.answer(definition, session.progress, value)
    except flow.RequiredQuestion:
        return respond(ctx, notice=_("This question needs an answer."))
    except flow.NothingBefore:
        return respond(ctx, notice=_("This is the first question."))
    except flow.FlowError:
        return expired_button(ctx)
    await _store(repo, session, definition, step, ctx)
    return _after(ctx, definition, step, code, edit=True)


async def _store(
    repo: SurveyRepository, session: Session, definition: Definition, step: flow.Step, ctx: Context
) -> None:
    # The session first, the answers last: storing an answer updates the index's totals
    # (a trigger), rows every answer of the agency and month shares, which stay locked until
    # the commit. Written last, they are held for the commit alone, not for the session's
    # statements too (bench_index on PostgreSQL: 1,000–1,250 → 1,400 answers/s).
    if step.progress.current is None:
        await repo.close(session.dossier_code)
    else:
        await repo.move(
            session.dossier_code, step.progress.current, step.progress.history, now=ctx.now
        )
    if step.removed:
        await repo.remove_answers(session.key.response_id, step.removed)
    if step.stored is not None:
        question_id, value = step.stored
        await repo.save_answer(session.key, definition.question(question_id), value, now=ctx.now)


def _after(
    ctx: Context, definition: Definition, step: flow.Step, code: str, *, edit: bool
) -> Response:
    notice = ctx._("Answer recorded.") if step.stored is not None else None
    lead = None
    if step.stored is not None:
        question_id, value = step.stored
        lead = acknowledgement(ctx, definition.question(question_id), value)
    if step.progress.current is None:
        return respond(ctx, _thanks(ctx, edit=edit, lead=lead), notice=notice)
    reply = _question_reply(ctx, definition, step.progress, code, edit=edit, lead=lead)
    return respond(ctx, reply, notice=notice)


# --------------------------------------------------------------------------- typed comments


async def text_entered(ctx: Context, message: str) -> Response | None:
    """A typed message while a survey waits for a comment; None when none does."""
    _ = ctx._
    async with ctx.tx() as uow:
        repo = uow.surveys
        for session in await repo.sessions_of(ctx.user.id, now=ctx.now):
            definition = catalog().get(session.survey_id)
            current = session.progress.current
            if definition is None or current is None:
                continue
            try:
                question = definition.question(current)
            except KeyError:
                continue
            if question.type != "text":
                continue
            if len(message) > question.max_length:
                return text(
                    ctx,
                    _(
                        "Your comment is {length} characters long; please keep it within "
                        "{limit} characters and send it again."
                    ).format(length=len(message), limit=question.max_length),
                )
            try:
                step = flow.answer(definition, session.progress, message)
            except flow.FlowError:
                return None
            await _store(repo, session, definition, step, ctx)
            return _after(ctx, definition, step, session.dossier_code, edit=False)
    return None
