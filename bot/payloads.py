"""Button payloads: ``<action>:<argument>``, short enough for Telegram's 64-byte limit.

A payload is only a request; every handler re-checks that the user may do what it asks, so a
forged payload gains nothing and a stale one gets a polite "this button has expired".
Destructive buttons (erase my data, stop notices) also carry a fresh, user-bound confirmation
token (`bot.handlers.confirm`).
"""

from __future__ import annotations

from enum import StrEnum

from bot.messages import SHARE_CONTACT

MAX_PAYLOAD_BYTES = 64


class Action(StrEnum):
    """What a button asks for."""

    LOOKUP = "lk"  # refresh a dossier's status
    VERIFY = "vf"  # start proving ownership of a dossier
    SUBSCRIBE = "sb"
    UNSUBSCRIBE = "us"
    UNSUBSCRIBE_ALL = "ua"
    MINE = "mn"
    LANGUAGE = "lg"
    FORGET_YES = "fy"
    FORGET_NO = "fn"
    CANCEL = "cx"
    HELP = "hp"
    SURVEY = "sv"  # answer, skip, go back in or stop a satisfaction survey
    DISMISS = "ok"  # the "keep things as they are" answer to a question
    CONTACT = SHARE_CONTACT  # the label of the platform's "share my phone" button


def make(action: Action, argument: str = "") -> str:
    """The payload for `action` on `argument`; ValueError if it would not fit a button."""
    payload = f"{action.value}:{argument}"
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload too long for a button: {len(payload.encode())} bytes")
    return payload


def parse(payload: str) -> tuple[Action, str] | None:
    """The action and argument of a payload, or None for anything we never made."""
    if len(payload.encode()) > MAX_PAYLOAD_BYTES or ":" not in payload:
        return None
    head, argument = payload.split(":", 1)
    try:
        action = Action(head)
    except ValueError:
        return None
    return action, argument
