"""``POST /hooks/case-events``: dossier changes pushed by the case system (design §4).

The body is ``{"events": [{"id": str, "dossier": Dossier}, …]}``, signed with
``X-Motcua-Signature: sha256=<hex HMAC-SHA256(shared secret, raw body)>``. A bad or missing
signature is answered 401 and nothing is processed; a body not of that shape 400. The body is
read with a hard limit (`MAX_BODY_BYTES`, 413 beyond it, chunked uploads included) and its
signature checked on the raw bytes before anything parses it. Each event's dossier is checked
on its own: one off the contract (or one the database refuses) is set aside in the quarantine
and the others are applied, so one bad record never makes the whole batch fail. Event ids
already processed are acknowledged and ignored. Accepted events go through the watcher's rule
path (`Watcher.ingest_events`), so a 200 means they are safely stored (applied or set aside);
503 means the database could not be reached.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.domain.dossier import Dossier
from bot.domain.intake import RejectedItem, parse_item
from bot.notify.watcher import IngestReport
from bot.ports import StorageUnavailable
from bot.web.body import BodyRefused, closing, read_limited

SIGNATURE_HEADER = "X-Motcua-Signature"
PATH = "/hooks/case-events"
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_EVENTS = 5000

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """Where verified events go (`bot.notify.watcher.Watcher`)."""

    async def ingest_events(
        self, events: Sequence[tuple[str, Dossier | RejectedItem]]
    ) -> IngestReport: ...


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=128)
    # Checked on its own (`parse_item`), so that one bad dossier does not refuse the batch.
    dossier: Any


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    events: list[_Event] = Field(max_length=MAX_EVENTS)


def signature(secret: str, body: bytes) -> str:
    """The header value that signs `body` under `secret`: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` (compared in constant time)."""
    if not header or not secret:
        return False
    return hmac.compare_digest(header.strip().encode(), signature(secret, body).encode())


def routes(sink: EventSink, secret: str, *, path: str = PATH) -> list[BaseRoute]:
    """The case-event webhook route, to mount on the bot's web server."""
    if not secret:
        raise ValueError("the case-events webhook needs a shared secret")

    async def case_events(request: Request) -> Response:
        # A missing signature is refused before a byte of the body is read.
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            log.warning("case events: refused a request without a signature")
            return closing(JSONResponse({"error": "bad_signature"}, status_code=401))
        try:
            body = await read_limited(request, MAX_BODY_BYTES)
        except BodyRefused as refused:
            log.warning("case events: body refused (%s)", refused)
            return refused.response
        if not signature_valid(secret, body, given):
            log.warning("case events: refused a request with a bad or missing signature")
            return closing(JSONResponse({"error": "bad_signature"}, status_code=401))
        try:
            parsed = _Body.model_validate_json(body)
        except ValidationError as error:
            log.warning("case events: malformed body (%d problems)", error.error_count())
            return closing(JSONResponse({"error": "malformed"}, status_code=400))
        try:
            report = await sink.ingest_events(
                [(e.id, parse_item(e.dossier, event_id=e.id)) for e in parsed.events]
            )
        except (StorageUnavailable, OSError):
            # The sender retries the same batch; the event ids make that harmless.
            log.exception("case events: could not store %d events", len(parsed.events))
            return closing(JSONResponse({"error": "unavailable"}, status_code=503))
        if report.accepted:
            log.info(
                "case events: %d accepted, %d repeats ignored, %d notices queued, "
                "%d set aside in the quarantine",
                report.accepted,
                report.duplicates,
                report.queued,
                report.quarantined,
            )
        return JSONResponse({"accepted": report.accepted, "duplicates": report.duplicates})

    return [Route(path, case_events, methods=["POST"])]
