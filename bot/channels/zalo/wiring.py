"""Build the Zalo channel from the settings (called by the composition root)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.channel import ZaloChannel
from bot.channels.zalo.inbound import CHANNEL
from bot.channels.zalo.store import TokenStore
from bot.channels.zalo.zns import OwnerPhones, VerifiedPhones
from bot.inbound import ChannelJournal, InboundJournal
from bot.messages import ChannelEvents, MessageHandler
from bot.ports import Clock, UnitOfWorkFactory
from bot.settings import Settings


def zalo_configured(settings: Settings) -> bool:
    """Whether the settings name an Official Account to serve."""
    return bool(settings.zalo_app_id and settings.zalo_oa_secret and settings.zalo_app_secret)


def build_zalo_channel(
    settings: Settings,
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    handler: MessageHandler,
    events: ChannelEvents,
    rate_per_second: float = 50.0,
    phones: VerifiedPhones | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    journal: ChannelJournal | None = None,
) -> ZaloChannel:
    """The Zalo channel for `settings`; call `start()` before serving its routes.

    `phones` defaults to the ownership repository's verified phone numbers; `journal` (the
    inbound journal, `bot.inbound`) to one of its own on `uow_factory`.
    """
    app_id, app_secret, oa_secret = (
        settings.zalo_app_id,
        settings.zalo_app_secret,
        settings.zalo_oa_secret,
    )
    if not app_id or app_secret is None or oa_secret is None:
        raise ValueError(
            "Zalo needs MOTCUA_ZALO_APP_ID, MOTCUA_ZALO_APP_SECRET and MOTCUA_ZALO_OA_SECRET"
        )
    api = ZaloApi(
        api_url=settings.zalo_api_url,
        oauth_url=settings.zalo_oauth_url,
        zns_url=settings.zns_api_url,
        app_id=app_id,
        app_secret=app_secret.get_secret_value(),
        rate_per_second=rate_per_second,
        transport=transport,
    )
    access = settings.zalo_access_token
    refresh = settings.zalo_refresh_token
    tokens = TokenStore(
        uow_factory,
        api,
        clock,
        initial_access=access.get_secret_value() if access else None,
        initial_refresh=refresh.get_secret_value() if refresh else None,
    )
    return ZaloChannel(
        app_id=app_id,
        oa_secret=oa_secret.get_secret_value(),
        api=api,
        tokens=tokens,
        journal=journal
        or InboundJournal(
            uow_factory, clock, lease=timedelta(seconds=settings.inbound_lease)
        ).for_channel(CHANNEL),
        handler=handler,
        events=events,
        uow_factory=uow_factory,
        clock=clock,
        phones=phones or OwnerPhones(uow_factory),
        zns_templates=settings.zns_templates,
        tz=settings.tz,
        info_image_url=settings.zalo_info_image_url,
        max_event_age=timedelta(seconds=settings.zalo_event_max_age),
    )
