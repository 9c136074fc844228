"""Case-system texts cut to a chat's measure (issue 12 finding 5).

The contract's strings have no length limit: a 100,000-character applicant name or note would
be split by the channel into dozens of messages (51 pushes from one event, 32 messages for one
lookup were seen). Before a dossier or a notice is rendered for a chat, each long field is cut
here with "…", so that a lookup answer or a notice stays one message (a few at most), well
under Telegram's 4,096 and Zalo's 2,000 characters together. Nothing stored is cut: only what
a chat shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.dossier import Dossier
from bot.domain.intake import clip

NAME_CHARS = 120
"""An applicant's name."""
PROCEDURE_CHARS = 250
AGENCY_CHARS = 160
FIELD_CHARS = 120
NOTE_CHARS = 700
"""The office's note (what to supplement, why refused): the longest, as the citizen acts on it."""
PLACE_CHARS = 250
HOURS_CHARS = 160

NOTICE_PARAM_CHARS: Mapping[str, int] = {
    "procedure": PROCEDURE_CHARS,
    "agency": AGENCY_CHARS,
    "note": NOTE_CHARS,
    "place": PLACE_CHARS,
    "hours": HOURS_CHARS,
}
"""The case-system texts a notice's params carry (`bot.notify.rules`), and their cut."""


def for_chat(dossier: Dossier) -> Dossier:
    """`dossier` with its long texts cut for a chat (the dossier itself if none is)."""
    pickup = dossier.pickup
    if (
        len(dossier.procedure.name) <= PROCEDURE_CHARS
        and len(dossier.procedure.field) <= FIELD_CHARS
        and len(dossier.agency.name) <= AGENCY_CHARS
        and len(dossier.applicant.name) <= NAME_CHARS
        and len(dossier.note or "") <= NOTE_CHARS
        and (
            pickup is None
            or (len(pickup.place) <= PLACE_CHARS and len(pickup.hours) <= HOURS_CHARS)
        )
    ):
        return dossier
    procedure = dossier.procedure.model_copy(
        update={
            "name": clip(dossier.procedure.name, PROCEDURE_CHARS),
            "field": clip(dossier.procedure.field, FIELD_CHARS),
        }
    )
    update: dict[str, Any] = {
        "procedure": procedure,
        "agency": dossier.agency.model_copy(
            update={"name": clip(dossier.agency.name, AGENCY_CHARS)}
        ),
        "applicant": dossier.applicant.model_copy(
            update={"name": clip(dossier.applicant.name, NAME_CHARS)}
        ),
        "note": None if dossier.note is None else clip(dossier.note, NOTE_CHARS),
    }
    if dossier.pickup is not None:
        update["pickup"] = dossier.pickup.model_copy(
            update={
                "place": clip(dossier.pickup.place, PLACE_CHARS),
                "hours": clip(dossier.pickup.hours, HOURS_CHARS),
            }
        )
    return dossier.model_copy(update=update)


def notice_params_for_chat(params: Mapping[str, Any]) -> Mapping[str, Any]:
    """A notice's `params` with the case system's long texts cut for a chat."""
    long = [
        key
        for key, limit in NOTICE_PARAM_CHARS.items()
        if isinstance(value := params.get(key), str) and len(value) > limit
    ]
    if not long:
        return params
    return {**params, **{key: clip(params[key], NOTICE_PARAM_CHARS[key]) for key in long}}
