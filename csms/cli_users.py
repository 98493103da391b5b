"""`csms users create|list`: operator accounts from the server's shell, so the first admin can
be made before anyone can sign in; and the `--counties`/`--owner-unit` scope options that
`csms keys create` shares."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from csms.clock import utcnow
from csms.domain.api_key import Role
from csms.domain.scope import Scope
from csms.domain.user import hash_user_password, login_problem, password_problem
from csms.errors import InvalidInput
from csms.store import database
from csms.store.users import UserStore

COMMAND = "users"


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--counties",
        help="comma-separated counties (as stations.county names them) it may see; "
        "default: the whole network",
    )
    scope.add_argument("--owner-unit", help="the one owner unit whose stations it may see")


def scope_from(args: argparse.Namespace) -> Scope | None:
    """The scope the options name; None for the whole network."""
    counties = None
    if args.counties is not None:
        counties = [c.strip() for c in args.counties.split(",") if c.strip()]
        if not counties:
            raise InvalidInput("--counties names no county")
    return Scope.of(counties, args.owner_unit)


def add_parsers(commands: Any, database_options: Callable[[argparse.ArgumentParser], None]) -> None:
    users = commands.add_parser("users", help="manage operator accounts (console sign-in)")
    user_commands = users.add_subparsers(dest="action", required=True)
    create = user_commands.add_parser(
        "create", help="create an account; asks for its password (or reads it from stdin)"
    )
    create.add_argument("--login", required=True, help="what the person signs in with")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--display-name", help="the person's name, as the console shows it")
    add_scope_arguments(create)
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of asking (scripts)",
    )
    user_commands.add_parser("list", help="list accounts (never their passwords)")
    for cmd in user_commands.choices.values():
        database_options(cmd)


def read_password(args: argparse.Namespace) -> str:
    """The new account's password, before any database work: asked twice on a terminal, or
    the first line of stdin with --password-stdin. Never echoed, logged or printed."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.login}: ")
        if getpass.getpass("again: ") != password:
            raise InvalidInput("the two passwords differ")
    problem = password_problem(password)
    if problem is not None:
        raise InvalidInput(problem)
    return password


def check_create(args: argparse.Namespace) -> None:
    """Refuse a bad login or scope before asking for a password."""
    problem = login_problem(args.login)
    if problem is not None:
        raise InvalidInput(problem)
    if args.display_name is not None and not 1 <= len(args.display_name) <= 200:
        raise InvalidInput("a display name has 1..200 characters")
    scope_from(args)


async def run(
    args: argparse.Namespace, pool: database.Pool, actor: str, password: str | None
) -> None:
    store = UserStore(pool)
    if args.action == "create":
        assert password is not None  # main read it
        scope = scope_from(args)
        user = await store.create(
            login=args.login,
            display_name=args.display_name,
            role=args.role,
            password_hash=hash_user_password(password),
            scope=scope,
            by=actor,
            at=utcnow(),
        )
        where = "the whole network" if scope is None else scope.describe()
        print(f"user {user['id']} {user['login']} ({user['role']}, {where}) created")
        return
    print(f"{'id':>4} {'login':<24} {'role':<9} {'disabled':<9} scope")
    for u in await store.all():
        scope = u["scope"]
        print(
            f"{u['id']:>4} {u['login']:<24} {u['role']:<9} {'yes' if u['disabled'] else 'no':<9} "
            f"{'whole network' if scope is None else scope.describe()}"
        )
