"""ZNS template messages: what a push outside the chat window sends, and to which phone.

Only a phone number the citizen verified a dossier with (shared through Zalo's information
request and confirmed by the case API) may receive ZNS: `OwnerPhones` asks the ownership
repository for it. The template for a notice kind comes from MOTCUA_ZNS_TEMPLATE_<KIND>; its
``template_data`` are the notice's parameters (plus ``dossier_code``), dates written
dd/mm/yyyy in local time, as ZNS date parameters want. Coded values are sent as the Vietnamese
a citizen reads: ``status`` as the national portal's status name, ``delivery`` as how the
result is handed over (docs/zalo.md lists every template's Vietnamese text).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.status import Status
from bot.i18n import gettext_for
from bot.ports import UnitOfWorkFactory
from bot.push import PushDetails
from bot.wording import status_label

log = logging.getLogger(__name__)

MAX_TRACKING_ID = 48


class VerifiedPhones(Protocol):
    """Where the verified phone number of a dossier's owner comes from."""

    async def verified_phone(self, user_id: int, dossier_code: str) -> str | None:
        """The phone `user_id` verified `dossier_code` with, or None."""
        ...


class OwnerPhones:
    """`VerifiedPhones` from the ownership repository (stored only for method "phone")."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def verified_phone(self, user_id: int, dossier_code: str) -> str | None:
        """The phone the user verified the dossier with, or None."""
        async with self._uow_factory() as uow:
            return await uow.owners.verified_phone(user_id, dossier_code)


def template_data(details: PushDetails, tz: ZoneInfo) -> dict[str, Any]:
    """The ``template_data`` of a ZNS message for `details`: its scalar parameters."""
    data: dict[str, Any] = {}
    if details.dossier_code:
        data["dossier_code"] = details.dossier_code
    for name, value in details.params.items():
        rendered = _vietnamese(str(name), value) or _value(value, tz)
        if rendered is not None:
            data[str(name)] = rendered
    return data


def _vietnamese(name: str, value: Any) -> str | None:
    """The Vietnamese text of a coded parameter (status, delivery, currency), else None."""
    _ = gettext_for("vi")
    if name == "status" and isinstance(value, str):
        try:
            return status_label(Status(value), _)
        except ValueError:
            return None
    if name == "delivery" and value == "post":
        return _("By the public postal service")
    if name == "delivery" and value == "counter":
        return _("In person at the office")
    if name == "currency" and value == "VND":
        return "đồng"
    return None


def tracking_id(details: PushDetails) -> str:
    """A stable id of the push, the same on every retry, so ZNS can tell repeats apart."""
    explicit = details.params.get("tracking_id")
    if isinstance(explicit, str) and 0 < len(explicit) <= MAX_TRACKING_ID:
        return explicit
    canonical = json.dumps(
        [details.user_id, details.kind, details.dossier_code, _jsonable(details.params)],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): value for key, value in params.items()}


def _value(value: Any, tz: ZoneInfo) -> str | int | float | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return _date(value, tz)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return _date(moment, tz) if moment.tzinfo is not None else value
    return None  # lists and objects have no place in a template


def _date(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d/%m/%Y")
