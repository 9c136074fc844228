"""The complete schema: every module that defines tables on the shared `metadata`.

Table modules live in the storage layer and are found by name: any ``tables.py`` or
``tables_*.py`` in the `bot` and `surveys` packages (``bot/storage/tables_outbox.py``,
``bot/storage/tables_zalo.py``, ``surveys/storage/tables.py``, …). They register their tables on
`bot.storage.tables.metadata` when imported; `load_metadata` imports them all, so Alembic
(env.py) and the migrations-match-tables test see every table with no list to keep current.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from sqlalchemy import MetaData

from bot.storage.tables import metadata

ROOT_PACKAGES = ("bot", "surveys")


def table_modules() -> list[str]:
    """The dotted names of every table module in `ROOT_PACKAGES`, sorted."""
    names: list[str] = []
    for root in ROOT_PACKAGES:
        spec = importlib.util.find_spec(root)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            base = Path(location)
            for path in base.rglob("tables*.py"):
                if path.stem != "tables" and not path.stem.startswith("tables_"):
                    continue
                if "migrations" in path.relative_to(base).parts:
                    continue
                parts = path.relative_to(base).with_suffix("").parts
                names.append(".".join((root, *parts)))
    return sorted(set(names))


def load_metadata() -> MetaData:
    """The shared metadata with every table module imported (so every table is on it)."""
    for name in table_modules():
        importlib.import_module(name)
    return metadata
