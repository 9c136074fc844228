"""Notice renderers: a notice's text is made when it is sent, in the user's language then.

Each notice kind registers one renderer::

    @register("ready")
    def render_ready(params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]: ...

The dispatcher calls `render(kind, params, ctx)`; an unknown kind raises `UnknownNotice`
(the outbox row is then dead: retrying cannot help).
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
    """No renderer is registered for a notice kind."""


_RENDERERS: dict[str, Renderer] = {}


def register(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the renderer of notices of `kind` (one per kind)."""

    def decorate(renderer: Renderer) -> Renderer:
        existing = _RENDERERS.get(kind)
        if existing is not None and existing is not renderer:
            raise ValueError(f"a renderer for notice kind {kind!r} is already registered")
        _RENDERERS[kind] = renderer
        return renderer

    return decorate


def render(kind: str, params: Mapping[str, Any], ctx: RenderContext) -> Sequence[Reply]:
    """The replies for a notice of `kind`."""
    try:
        renderer = _RENDERERS[kind]
    except KeyError:
        raise UnknownNotice(kind) from None
    # One notice stays one message or two, however long the case system's texts are.
    return renderer(notice_params_for_chat(params), ctx)


def registered_kinds() -> frozenset[str]:
    """Every kind with a renderer (after the modules defining them are imported)."""
    return frozenset(_RENDERERS)
