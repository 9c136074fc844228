"""The version of motcua that is running, as ``motcua --version``, /healthz and /metrics show it."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version

import bot


@functools.cache
def version() -> str:
    """The installed distribution's version; the package's own when run from a source tree."""
    try:
        return distribution_version("motcua")
    except PackageNotFoundError:
        return bot.__version__
