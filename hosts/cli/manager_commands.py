"""``catdog manager add-user NAME`` and ``catdog manager list-users`` (local accounts)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from catdog.auth.accounts import ManagerAccounts, validate_password, validate_username
from catdog.errors import ConfigurationError, InvalidInput
from catdog.settings import Settings
from catdog.storage.local.database import Database


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    manager = subparsers.add_parser("manager", help="manager accounts of the web app")
    commands = manager.add_subparsers(dest="manager_command", required=True, metavar="COMMAND")
    add = commands.add_parser(
        "add-user",
        help="create a manager account (password from a prompt, or stdin when not a terminal)",
    )
    add.add_argument("name", metavar="NAME")
    add.set_defaults(func=add_user)
    listing = commands.add_parser("list-users", help="list manager accounts")
    listing.set_defaults(func=list_users)


def _accounts(settings: Settings) -> ManagerAccounts:
    if settings.backend != "local":
        raise ConfigurationError("on AWS, managers are Cognito users: add them in the user pool")
    return ManagerAccounts(Database(settings.database_path))


def read_password(stdin: TextIO | None = None) -> str:
    """Twice from a hidden prompt on a terminal; the first line of stdin otherwise."""
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    validate_password(first)
    if getpass.getpass("Password again: ") != first:
        raise InvalidInput("the passwords differ")
    return first


def add_user(args: argparse.Namespace, settings: Settings) -> int:
    name = validate_username(args.name)
    accounts = _accounts(settings)
    accounts.add_user(name, read_password())
    print(
        f"manager {name!r} created; log in at http://{settings.web_host}:{settings.web_port}/manager/"
    )
    return 0


def list_users(args: argparse.Namespace, settings: Settings) -> int:
    for name in _accounts(settings).usernames():
        print(name)
    return 0
