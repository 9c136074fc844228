"""The dossier we are talking about: the one the citizen last looked up, for a while.

It lives in the conversation state (the database), so any process can take the next message:
a PIN typed right after a lookup, a shared phone number, "how much is the fee?" or "where do I
collect it?" all refer to it. Every conversation state kind carries it as ``data["code"]``
(waiting for a PIN, waiting for a feedback text, or just talking), so starting one of those
does not lose it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.handlers.context import Context
from bot.ports import ConversationState, UnitOfWork

TALKING_ABOUT = "talking_about"
AWAITING_PROOF = "awaiting_proof"
AWAITING_FEEDBACK = "awaiting_feedback"


def code_of(state: ConversationState | None) -> str | None:
    """The dossier code a conversation state refers to, if any."""
    if state is None:
        return None
    code = state.data.get("code")
    return code if isinstance(code, str) else None


async def current(ctx: Context) -> ConversationState | None:
    """The user's unexpired conversation state."""
    async with ctx.tx() as uow:
        return await uow.conversations.get(ctx.user.id, now=ctx.now)


async def dossier_in_context(ctx: Context) -> str | None:
    """The code of the dossier we are talking about, if any."""
    return code_of(await current(ctx))


async def remember(uow: UnitOfWork, ctx: Context, code: str) -> None:
    """Make `code` the dossier we are talking about (inside the caller's transaction)."""
    await uow.conversations.set(
        ctx.user.id,
        TALKING_ABOUT,
        {"code": code},
        expires_at=ctx.now + timedelta(seconds=ctx.config.context_ttl_seconds),
    )


async def wait_for(
    uow: UnitOfWork,
    ctx: Context,
    kind: str,
    code: str | None,
    seconds: int,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Wait for the user's next message as `kind`, keeping the dossier in context and what
    the wait needs to remember (`extra`, e.g. that the feedback awaited is a complaint)."""
    data: dict[str, Any] = dict(extra or {})
    if code is not None:
        data["code"] = code
    await uow.conversations.set(
        ctx.user.id, kind, data, expires_at=ctx.now + timedelta(seconds=seconds)
    )


async def end_wait(ctx: Context) -> None:
    """End a wait for a PIN or a feedback text, if one is on: keep only the dossier."""
    async with ctx.tx() as uow:
        state = await uow.conversations.get(ctx.user.id, now=ctx.now)
        if state is not None and state.kind in (AWAITING_PROOF, AWAITING_FEEDBACK):
            await back_to_talking(uow, ctx, code_of(state))


async def back_to_talking(uow: UnitOfWork, ctx: Context, code: str | None) -> None:
    """End a wait: keep only the dossier in context (or nothing)."""
    if code is None:
        await uow.conversations.clear(ctx.user.id)
    else:
        await remember(uow, ctx, code)
