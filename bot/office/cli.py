"""``motcua staff add|list|disable|enable|password``: the officials' accounts of the workspace.

The password comes from ``MOTCUA_STAFF_PASSWORD`` or is typed (twice, not echoed); it is never
a command-line argument, where other users of the machine and the shell history would see it.
Every change is written to the audit trail as done by ``cli:<operating-system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from bot.domain.office import ROLES, valid_agency_code, valid_username
from bot.office.passwords import WeakPassword, check_strength, hash_password
from bot.settings import Settings

PASSWORD_ENV = "MOTCUA_STAFF_PASSWORD"  # noqa: S105 - the variable's name, not a password


def add_parser(commands: Any) -> None:
    """Add ``motcua staff``."""
    parser = commands.add_parser(
        "staff",
        help="accounts of the officials' web workspace (/office/)",
        description="Manage who may sign in to the web workspace at /office/.",
    )
    actions = parser.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help=f"create an account (password from {PASSWORD_ENV} or typed)"
    )
    add.add_argument("username")
    add.add_argument(
        "--agency",
        default="",
        help="agency codes the account sees, comma-separated (not needed for admin)",
    )
    add.add_argument("--role", choices=ROLES, required=True)
    add.set_defaults(run=_add)
    listing = actions.add_parser("list", help="list the accounts")
    listing.set_defaults(run=_list)
    for name, helptext, run in (
        ("disable", "stop an account from signing in (ends its sessions)", _disable),
        ("enable", "let a disabled account sign in again", _enable),
        ("password", "set a new password (ends the account's sessions)", _password),
    ):
        sub = actions.add_parser(name, help=helptext)
        sub.add_argument("username")
        sub.set_defaults(run=run)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # no user name in a bare container
        return "cli"


def read_password(*, prompt: bool = True) -> str | None:
    """The new password: the environment variable, else typed twice; None if refused."""
    given = os.environ.get(PASSWORD_ENV)
    if given is None:
        if not prompt or not sys.stdin.isatty():
            print(f"motcua staff: set {PASSWORD_ENV} or run in a terminal to type the password")
            return None
        given = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != given:
            print("motcua staff: the two passwords differ")
            return None
    try:
        check_strength(given)
    except WeakPassword as exc:
        print(f"motcua staff: {exc}")
        return None
    return given


async def _open(settings: Settings) -> Any:
    from bot.storage.engine import create_engine
    from bot.storage.migrate import upgrade

    await upgrade(settings.database_url)
    return create_engine(settings.database_url)


async def _add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.uow import SqlUnitOfWorkFactory

    username = args.username.strip().lower()
    if not valid_username(username):
        print("motcua staff: a username is 2–64 lower-case letters, digits, '.', '-' or '_'")
        return 2
    agencies = sorted({code.strip() for code in args.agency.split(",") if code.strip()})
    bad = [code for code in agencies if not valid_agency_code(code)]
    if bad:
        print(f"motcua staff: not an agency code: {', '.join(bad)}")
        return 2
    if args.role != "admin" and not agencies:
        print("motcua staff: a viewer or manager needs --agency CODE[,CODE…]")
        return 2
    password = read_password()
    if password is None:
        return 2
    password_hash = hash_password(password)
    engine = await _open(settings)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        async with factory() as uow:
            now = factory.clock.now()
            created = await uow.staff.add(
                username,
                password_hash=password_hash,
                role=args.role,
                agencies=[] if args.role == "admin" else agencies,
                now=now,
            )
            if created is None:
                print(f"motcua staff: {username} already exists")
                return 1
            scope = "all agencies" if args.role == "admin" else ",".join(agencies)
            await uow.staff.audit(
                _actor(), "staff.add", username, now=now, detail=f"{args.role} {scope}"
            )
            await uow.commit()
    finally:
        await engine.dispose()
    print(f"added {username} ({args.role}, {scope})")
    return 0


async def _list(_args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.uow import SqlUnitOfWorkFactory

    engine = await _open(settings)
    try:
        async with SqlUnitOfWorkFactory(engine)() as uow:
            accounts = await uow.staff.accounts()
    finally:
        await engine.dispose()
    if not accounts:
        print("no staff account yet: motcua staff add USERNAME --role admin")
        return 0
    width = max(len(a.username) for a in accounts)
    for account in accounts:
        scope = "all agencies" if account.is_admin else ",".join(account.agencies)
        state = "active" if account.active else "disabled"
        print(f"{account.username:<{width}}  {account.role:<7}  {state:<8}  {scope}")
    return 0


async def _set_active(username: str, settings: Settings, active: bool) -> int:
    from bot.storage.uow import SqlUnitOfWorkFactory

    engine = await _open(settings)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        async with factory() as uow:
            now = factory.clock.now()
            if not await uow.staff.set_active(username, active, now=now):
                print(f"motcua staff: no account {username}")
                return 1
            action = "staff.enable" if active else "staff.disable"
            await uow.staff.audit(_actor(), action, username, now=now)
            await uow.commit()
    finally:
        await engine.dispose()
    print(f"{username} {'enabled' if active else 'disabled'}")
    return 0


async def _disable(args: argparse.Namespace, settings: Settings) -> int:
    return await _set_active(args.username.strip().lower(), settings, False)


async def _enable(args: argparse.Namespace, settings: Settings) -> int:
    return await _set_active(args.username.strip().lower(), settings, True)


async def _password(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.uow import SqlUnitOfWorkFactory

    username = args.username.strip().lower()
    password = read_password()
    if password is None:
        return 2
    password_hash = hash_password(password)
    engine = await _open(settings)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        async with factory() as uow:
            now = factory.clock.now()
            if not await uow.staff.set_password(username, password_hash, now=now):
                print(f"motcua staff: no account {username}")
                return 1
            await uow.staff.audit(_actor(), "staff.password", username, now=now)
            await uow.commit()
    finally:
        await engine.dispose()
    print(f"password of {username} changed; its sessions are ended")
    return 0
