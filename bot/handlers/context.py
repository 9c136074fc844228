"""What every handler gets: the user, the open unit of work, the ports and the user's texts."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.handlers.render import CardTexts
from bot.i18n import Gettext, gettext_for, ngettext_for
from bot.messages import Incoming
from bot.ports import CaseApi, ChatUser, Clock, OwnedDossier, UnitOfWork, UnitOfWorkFactory
from bot.understanding import Matcher, default_matcher
from bot.usage import LookupTally
from bot.wording import DEFAULT_OFFICE_NAME, Ngettext


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """The knobs of the conversation core, taken from the settings by the composition root."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    default_language: str = "vi"
    deep_link_secret: str | None = None
    # Key of the keyed hashes under which limits are kept and of the buttons' confirmation
    # tokens (MOTCUA_SERVER_SECRET, or one generated once and kept in the database).
    server_secret: str = ""
    lookup_limit_per_minute: int = 10
    lookup_limit_per_hour: int = 60
    pin_attempts_per_dossier: int = 5
    pin_attempts_per_user: int = 10
    pin_lockout_minutes: int = 15
    pin_backoff_max_minutes: int = 360
    confirm_ttl_seconds: int = 900
    max_text_length: int = 2000
    max_codes_per_message: int = 3
    pending_ttl_seconds: int = 600
    # How long the dossier last looked up stays "the dossier we are talking about".
    context_ttl_seconds: int = 1800
    # The office's contact details, for citizens without a dossier in context.
    office_address: str = ""
    office_phone: str = ""
    office_hours: str = ""
    mine_list_limit: int = 10
    survey_delay_seconds: int = 1800
    survey_ttl_seconds: int = 7 * 24 * 3600
    office_name: str = DEFAULT_OFFICE_NAME


@dataclass(frozen=True, slots=True)
class Dependencies:
    """The ports the handlers use; built once by the composition root."""

    case_api: CaseApi
    clock: Clock
    config: CoreConfig
    uow_factory: UnitOfWorkFactory
    #: Lookups counted for the usage page, written by the composition root (`bot.usage`).
    lookups: LookupTally
    #: Reads typed messages: the bundled phrases, and the office's own (MOTCUA_PHRASES_DIR).
    matcher: Matcher = field(default_factory=default_matcher)


@dataclass(slots=True)
class Context:
    """One Incoming being handled: who sent it, and the tools to answer.

    Handlers open short transactions with ``async with ctx.tx() as uow:`` and never call the
    case API inside one: on SQLite an open write transaction locks the whole database.
    """

    incoming: Incoming
    user: ChatUser
    deps: Dependencies
    now: datetime
    # A lookup the core already reserved in the transaction that loaded the user
    # (`bot.handlers.lookup.Reserved`): a typed lookup costs one transaction, not two.
    reserved_lookup: object | None = None

    @contextlib.asynccontextmanager
    async def tx(self) -> AsyncIterator[UnitOfWork]:
        """A transaction committed when the block ends normally, rolled back otherwise."""
        async with self.deps.uow_factory() as uow:
            yield uow
            await uow.commit()

    @property
    def language(self) -> str:
        """The user's language."""
        return self.user.language

    @property
    def _(self) -> Gettext:
        """The user's gettext."""
        return gettext_for(self.user.language)

    @property
    def ngettext(self) -> Ngettext:
        """The user's plural-aware gettext."""
        return ngettext_for(self.user.language)

    @property
    def texts(self) -> CardTexts:
        """How dossier cards are written for this user: language, time zone, office name."""
        return CardTexts(self.user.language, self.deps.config.tz, self.deps.config.office_name)

    @property
    def config(self) -> CoreConfig:
        """The core's configuration."""
        return self.deps.config

    @property
    def case_api(self) -> CaseApi:
        """The case system."""
        return self.deps.case_api


async def load_user(
    uow: UnitOfWork, incoming: Incoming, *, language: str, now: datetime
) -> ChatUser:
    """The sender, created on first contact; a blocked user who writes again is unblocked."""
    user = await uow.users.get_or_create(
        incoming.channel, incoming.user_id, language=language, now=now
    )
    return await _unblocked(uow, user)


async def load_user_with_ownership(
    uow: UnitOfWork, incoming: Incoming, dossier_code: str, *, language: str, now: datetime
) -> tuple[ChatUser, OwnedDossier | None]:
    """`load_user`, and the sender's ownership of `dossier_code` read with it."""
    user, owned = await uow.users.get_or_create_with_ownership(
        incoming.channel, incoming.user_id, dossier_code, language=language, now=now
    )
    return await _unblocked(uow, user), owned


async def _unblocked(uow: UnitOfWork, user: ChatUser) -> ChatUser:
    if user.blocked:  # they write to us, so they have unblocked the bot
        await uow.users.set_blocked(user.id, False)
        user = dataclasses.replace(user, blocked=False)
    return user
