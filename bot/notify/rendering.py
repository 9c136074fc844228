"""Notice renderers: a notice's text is made when it is sent, in the user's language then.

A renderer is a plain function of the notice's params::

    def render_ready(params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]: ...

The composition root maps every kind to its renderer (`NoticeRenderers`); the dispatcher
calls `renderers.render(kind, params, ctx)`, and an unknown kind raises `UnknownNotice` (the
outbox row is then dead: retrying cannot help).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.brief import notice_params_for_chat
from bot.i18n import Gettext, gettext_for, ngettext_for
from bot.messages import Reply
from bot.wording import DEFAULT_OFFICE_NAME, Ngettext


@dataclass(frozen=True, slots=True)
class RenderContext:
    """The user's language, the local time zone and the office's name, at send time."""

    language: str
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    office: str = DEFAULT_OFFICE_NAME

    @property
    def _(self) -> Gettext:
        """The user's gettext."""
        return gettext_for(self.language)

    @property
    def ngettext(self) -> Ngettext:
        """The user's plural-aware gettext."""
        return ngettext_for(self.language)


Renderer = Callable[[Mapping[str, Any], RenderContext], Sequence[Reply]]


class UnknownNotice(LookupError):
    """No renderer is known for a notice kind."""


class NoticeRenderers:
    """Which renderer words each kind of notice (one per kind).

    Built in the composition root (`bot.composition.notice_renderers`) from the feature
    modules' renderers, and given to the dispatcher; nothing registers itself on import.
    """

    def __init__(self, renderers: Mapping[str, Renderer] | None = None) -> None:
        self._renderers: dict[str, Renderer] = dict(renderers or {})

    def with_kind(self, kind: str, renderer: Renderer) -> NoticeRenderers:
        """These renderers and `renderer` for `kind` (ValueError if `kind` has one already)."""
        if kind in self._renderers:
            raise ValueError(f"a renderer for notice kind {kind!r} is already known")
        return NoticeRenderers({**self._renderers, kind: renderer})

    def render(self, kind: str, params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]:
        """The replies for a notice of `kind`; `UnknownNotice` if no renderer is known."""
        try:
            renderer = self._renderers[kind]
        except KeyError:
            raise UnknownNotice(kind) from None
        # One notice stays one message or two, however long the case system's texts are.
        return renderer(notice_params_for_chat(params), ctx)

    def kinds(self) -> frozenset[str]:
        """Every kind with a renderer."""
        return frozenset(self._renderers)
