"""The commands a chat platform should list in its menu, in each language."""

from __future__ import annotations

from bot.i18n import gettext_for


def command_descriptions(language: str) -> list[tuple[str, str]]:
    """(command, description) pairs for the platform's command menu."""
    _ = gettext_for(language)
    return [
        ("start", _("Start and see how to look up a dossier")),
        ("mine", _("My dossiers and notices")),
        ("lang", _("Tiếng Việt / English")),
        ("help", _("Help")),
        ("forget", _("Erase my data")),
    ]
