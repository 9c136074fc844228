"""The Zalo Official Account channel (OA Open API v3 over httpx, ZNS outside the chat window)."""

from bot.channels.zalo.api import RateLimiter, TokenPair, ZaloApi
from bot.channels.zalo.channel import WEBHOOK_PATH, ZaloChannel
from bot.channels.zalo.store import TokenStore
from bot.channels.zalo.wiring import build_zalo_channel, zalo_configured
from bot.channels.zalo.zns import OwnerPhones, VerifiedPhones

__all__ = [
    "WEBHOOK_PATH",
    "OwnerPhones",
    "RateLimiter",
    "TokenPair",
    "TokenStore",
    "VerifiedPhones",
    "ZaloApi",
    "ZaloChannel",
    "build_zalo_channel",
    "zalo_configured",
]
