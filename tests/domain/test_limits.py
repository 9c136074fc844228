"""The rate limits' keys keep their format: rows already stored, and the promise that
``/forget`` leaves limits to expire on their own, depend on it."""

from __future__ import annotations

import pytest

from bot.domain.limits import LimitKind, limit_key

SECRET = "s3cret"
ACCOUNT = "telegram:42"

# Computed by the key builder as it was when these kinds were first stored: a change here
# orphans every stored limit row of that kind.
STORED_FORMAT = {
    LimitKind.LOOKUP_MINUTE: "lookup-m:587e7bac4a17c254ed27dbbbf7c565cc",
    LimitKind.LOOKUP_HOUR: "lookup-h:49b6adc73b0e39d3b9b576f4cb0d753a",
    LimitKind.PIN_ACCOUNT: "pin-a:c1311f9eb3ece7ec34f34aa08671f2bc",
    LimitKind.PIN_DOSSIER: "pin-d:353a7c07a39aa0957d25325ef65c951d",
    LimitKind.PHONE_ACCOUNT: "phone-a:1f9dce985bdde5a08c56b2c188a682b8",
}


@pytest.mark.parametrize("kind", list(STORED_FORMAT))
def test_the_keys_of_existing_kinds_are_unchanged(kind: LimitKind) -> None:
    assert limit_key(kind, SECRET, ACCOUNT) == STORED_FORMAT[kind]


def test_every_key_fits_the_column_and_names_no_one() -> None:
    for kind in LimitKind:
        key = limit_key(kind, SECRET, "an.official@example.org")
        assert len(key) <= 64  # rate_limits.key is String(64)
        assert key.startswith(f"{kind.value}:")
        assert "official" not in key


def test_kinds_and_secrets_keep_keys_apart() -> None:
    keys = {limit_key(kind, SECRET, ACCOUNT) for kind in LimitKind}
    assert len(keys) == len(LimitKind)
    assert limit_key(LimitKind.PIN_ACCOUNT, "other", ACCOUNT) != limit_key(
        LimitKind.PIN_ACCOUNT, SECRET, ACCOUNT
    )
