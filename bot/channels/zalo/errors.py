"""Zalo's error codes, and what each means for a push: retry, give up, stop, or re-authenticate.

Zalo answers HTTP 200 with ``{"error": <code>, "message": …}``; a non-zero code is a failure.
The codes come from the Official Account API and ZNS error tables (docs.zaloplatforms.com,
"Mã lỗi"; see docs/zalo.md for the sources). Every code the adapter can receive is listed
here; an unlisted code is treated as a permanent refusal, so it is never retried forever.
"""

from __future__ import annotations

from bot.push import (
    ChannelBlocked,
    ChannelError,
    ChannelPermanentError,
    ChannelRetryAfter,
    ChannelTemporaryError,
    ChannelWindowClosed,
)

# The access token is invalid or expired: refresh it and retry the call once.
TOKEN_ERRORS = frozenset({-216, -220, -124})

# "-32 Your OA/application reached limit call api": the counters reset every minute.
RATE_LIMITED = frozenset({-32})
RATE_LIMIT_WAIT_SECONDS = 60.0

# The 7-day consultation window is closed (-230), or the user never interacted (-232).
WINDOW_CLOSED = frozenset({-230, -232})

# The user cannot be reached on this OA any more: unfollowed, blocked, banned, or restricted
# the OA's messages. Pushes to them stop until they write again.
USER_GONE = frozenset({-213, -217, -227, -244})

# Passing conditions: unknown errors, quotas that refill, night-time bans, busy platform.
TEMPORARY = frozenset(
    {
        -100,  # unknown error / attachment expired: retry later
        -200,  # send message failed
        -211,  # out of quota (refills)
        -218,  # the user's receive quota is used up
        -234,  # this message type cannot be sent at night
        -321,  # the Zalo Cloud Account has no money left (can be topped up)
        -133,  # ZNS: this template cannot be sent at night
        -115,  # ZNS: out of quota
        -126,  # ZNS: out of quota (development mode)
        -137,  # ZNS: charging the Zalo Cloud Account failed
        -144,  # ZNS: the OA's daily limit is reached
        -147,  # ZNS: the template's daily limit is reached
        -1471,  # ZNS: the monthly limit for this user is reached
    }
)

# Refusals of the message or of the OA's set-up: retrying the same request will not help.
PERMANENT = frozenset(
    {
        -201,  # a parameter is invalid
        -202,  # permission denied
        -204,  # the OA is disabled
        -205,  # the OA does not exist
        -207,  # invalid user id
        -209,  # the app is not activated for this API
        -210,  # a parameter exceeds its limit
        -212,  # the app has not registered this API
        -219,  # the app is removed or disabled
        -221,  # the OA must be verified for this feature
        -223,  # the OA has not authorised this API
        -224,  # the OA's package does not include this
        -233,  # message type invalid or not supported
        -235,  # not supported for this type of OA
        -240,  # message API v2 is shut down
        -242,  # invalid appsecret_proof
        -248,  # violates the platform's standards
        -249,  # template not sendable by user id
        -320,  # the app must be connected to a Zalo Cloud Account
        # ZNS
        -101,
        -102,
        -103,
        -104,
        -105,  # the app is invalid, missing, inactive, has a bad secret, or has no OA
        -106,  # method unsupported
        -107,  # message id invalid
        -108,  # phone number invalid
        -109,  # template id invalid
        -110,  # the user's Zalo version is too old
        -111,
        -112,
        -1121,
        -1122,
        -1123,
        -1124,  # template data empty, mistyped, too long, missing or malformed
        -113,
        -1131,  # button invalid
        -114,  # the user cannot receive this message
        -116,  # content invalid
        -117,  # no permission for this template
        -118,  # the Zalo account does not exist or is deactivated
        -119,  # the account cannot receive messages
        -120,  # the OA has no permission for this feature
        -121,
        -122,  # empty or malformed body
        -125,  # OA id invalid
        -127,  # a test template goes to administrators only
        -130,  # content too long
        -131,  # template not approved
        -132,  # parameter invalid
        -135,
        -1351,  # the OA may not send ZNS
        -136,  # a Zalo Cloud Account connection is required
        -138,  # the app has no permission for this feature
        -139,
        -140,
        -141,  # the user refused this kind of ZNS, or ZNS from this OA
        -145,  # the OA may not send this content type
        -146,  # the template was disabled for low quality
        -1241,  # invalid appsecret_proof
    }
)


class ZaloApiError(Exception):
    """Zalo answered with a non-zero error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code
        self.message = message


class ZaloAuthError(ChannelTemporaryError):
    """No usable access token: the refresh failed or was refused.

    A temporary error for the dispatcher (pushes wait and retry), but an operator must act
    when the refresh token itself was refused: a new pair has to be issued in Zalo's console.
    """


def is_token_error(code: int) -> bool:
    """Whether `code` means the access token must be refreshed."""
    return code in TOKEN_ERRORS


def channel_error(code: int, message: str) -> ChannelError:
    """The channel-neutral error for Zalo error `code` (token errors are handled before)."""
    text = f"zalo error {code}: {message}"[:200]
    if code in RATE_LIMITED:
        return ChannelRetryAfter(RATE_LIMIT_WAIT_SECONDS)
    if code in WINDOW_CLOSED:
        return ChannelWindowClosed(text)
    if code in USER_GONE:
        return ChannelBlocked(text)
    if code in TEMPORARY:
        return ChannelTemporaryError(text)
    if code in TOKEN_ERRORS:
        # Still refused right after a refresh: someone revoked the app's access.
        return ZaloAuthError(text)
    return ChannelPermanentError(text)
