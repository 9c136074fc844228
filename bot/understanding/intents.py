"""The intents the bot recognises and the result of understanding one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.codes import DossierCode


class Intent(StrEnum):
    """What a citizen wants from one message."""

    LOOKUP = "lookup"  # the message carries one or more dossier codes
    PIN = "pin"  # only a receipt PIN (digits, maybe with spaces, dots or dashes)
    PHONE = "phone"  # a typed phone number (never proof of anything)
    STATUS = "status"  # where is my dossier / when is it ready
    PICKUP = "pickup"  # where / when to collect, what to bring
    FEE = "fee"  # how much to pay / how to pay
    GREETING = "greeting"
    THANKS = "thanks"  # thanks or a plain acknowledgement ("ok", 👍)
    HELP = "help"
    STOP = "stop"  # stop notices
    FORGET = "forget"  # erase everything about me
    LANGUAGE = "language"  # switch language
    CONTACT = "contact"  # the office's phone and address
    FEEDBACK = "feedback"  # feedback or a complaint for the office
    PRIVACY = "privacy"  # what is kept about me
    UNKNOWN = "unknown"


COURTESY = frozenset({Intent.GREETING, Intent.THANKS})
"""Intents that only open or close a conversation: in a message that also asks for something
else, the other intent is the one answered."""


@dataclass(frozen=True, slots=True)
class Understanding:
    """One message understood.

    `language` is the language the message is written in ("vi" or "en"), or None when it
    gives no hint (a code, a PIN, an emoji). `codes` are the dossier codes found (LOOKUP);
    `pin` the digits of a PIN (PIN); `phone` is only True-ish: the digits of a typed number are
    not kept. `wanted_language` is the language asked for (LANGUAGE), `all_dossiers` whether a
    STOP is about every dossier, `complaint` whether it reads as a complaint, and `substantial`
    whether FEEDBACK carries more than the keyword itself (something worth storing); `reached`
    holds every intent that reached the threshold, the winner's runners-up too (a long
    message that complains is feedback even where a topic outweighs it). Whatever
    the intent, `cancel` says the whole message only means "never mind" ("thôi", "hủy"), and
    `only_courtesy` that it is nothing but a greeting or an acknowledgement ("ok", 👍, "dạ
    vâng ạ"): neither is worth keeping as the feedback the bot may be waiting for.
    """

    intent: Intent
    language: str | None = None
    codes: tuple[DossierCode, ...] = ()
    pin: str | None = None
    wanted_language: str | None = None
    all_dossiers: bool = False
    complaint: bool = False
    substantial: bool = False
    reached: frozenset[Intent] = frozenset()
    cancel: bool = False
    only_courtesy: bool = False
    score: float = 0.0
    tokens: tuple[str, ...] = field(default=(), repr=False)
