"""The in-memory twin of the SQL storage: every repository port of `bot.ports`, in dicts.

For tests where the database is not the point (handlers, rules, the watcher, the
dispatcher), as cosmicpython's ``FakeUnitOfWork``. It keeps the SQL adapters' meaning — the
conformance suite (`tests/storage/test_conformance.py`) runs the same checks on this twin,
on SQLite and on PostgreSQL — including transactions: a unit of work works on its own copy of
the tables, `commit` publishes it, leaving without commit throws it away. Units of work on
one `MemoryDatabase` take turns, as SQLite's writers do.

One module per concern, named after the SQL adapter module it is the twin of: `database`
(`MemoryTables`, its rows, `MemoryDatabase`), `uow` (`MemoryUnitOfWork` and its factory),
`users` (of `bot.storage.repositories`: users, owners, subscriptions, conversations),
`rate_limits`, `outbox`, `watch`, `quarantine`, `inbound`, `zalo`, `feedback`, `figures` and
`office` (of the `bot.storage` modules of the same names), `surveys` and `scores` (of
`surveys.storage.repository` and `surveys.storage.scores`). This package re-exports their
public names: import from `bot.storage.memory`.

A new repository port gets its twin in a module of its own, `bot/storage/memory/<feature>.py`:
a table (a dict) in `MemoryTables`, the repository class, and an attribute of
`MemoryUnitOfWork` bound in its `_begin`.
"""

from bot.storage.memory.database import BucketRow, MemoryDatabase, MemoryTables, OfficeTables
from bot.storage.memory.feedback import MemoryFeedbackRepository
from bot.storage.memory.figures import MemoryFiguresRepository
from bot.storage.memory.inbound import MemoryInboundJournalRepository
from bot.storage.memory.office import MemoryOfficeRepository, MemoryStaffRepository
from bot.storage.memory.outbox import MemoryOutboxRepository
from bot.storage.memory.quarantine import MemoryQuarantineRepository
from bot.storage.memory.rate_limits import MemoryRateLimitRepository, MemorySecretRepository
from bot.storage.memory.scores import MemoryScoreRepository
from bot.storage.memory.surveys import MemorySurveyRepository
from bot.storage.memory.uow import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from bot.storage.memory.users import (
    MemoryConversationRepository,
    MemoryOwnershipRepository,
    MemorySubscriptionRepository,
    MemoryUserRepository,
)
from bot.storage.memory.watch import MemoryWatchRepository
from bot.storage.memory.zalo import MemoryZaloTokenRepository

__all__ = [
    "BucketRow",
    "MemoryConversationRepository",
    "MemoryDatabase",
    "MemoryFeedbackRepository",
    "MemoryFiguresRepository",
    "MemoryInboundJournalRepository",
    "MemoryOfficeRepository",
    "MemoryOutboxRepository",
    "MemoryOwnershipRepository",
    "MemoryQuarantineRepository",
    "MemoryRateLimitRepository",
    "MemoryScoreRepository",
    "MemorySecretRepository",
    "MemoryStaffRepository",
    "MemorySubscriptionRepository",
    "MemorySurveyRepository",
    "MemoryTables",
    "MemoryUnitOfWork",
    "MemoryUnitOfWorkFactory",
    "MemoryUserRepository",
    "MemoryWatchRepository",
    "MemoryZaloTokenRepository",
    "OfficeTables",
]
