"""The one entry point: `csms serve | migrate | tokens ... | stations ...`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from csms import (
    __version__,
    bootstrap,
    cli_ca,
    cli_demo,
    cli_monitoring,
    cli_registry,
    cli_users,
    runtime,
    startup_errors,
)
from csms.clock import utcnow
from csms.config import Settings, add_serve_arguments, settings_from
from csms.domain.api_key import Role, key_hash, new_key
from csms.domain.password import hash_password
from csms.domain.station import AdminState, station_id_problem
from csms.domain.token import MAX_ID_TOKEN_LENGTH, IdToken
from csms.errors import Conflict, CsmsError, InvalidInput, NoDatabase, NotFound
from csms.services.billing import verify_chains
from csms.store import database
from csms.store.api_keys import ApiKeyStore
from csms.store.cdrs import CdrStore
from csms.store.stations import StationStore
from csms.store.tokens import TokenStore

log = logging.getLogger("csms")
CLI_ACTOR = "cli"  # the audit's name for whoever runs these commands on the server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csms", description="OCPP 1.6J / 2.0.1 central system (CSMS)."
    )
    parser.add_argument("--version", action="version", version=f"csms {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the CSMS (OCPP WebSocket + HTTP)",
        description="Run the CSMS. Every option can also be set by the environment variable "
        "shown; a flag wins over the environment.",
    )
    add_serve_arguments(serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations and exit")
    _database_options(migrate)

    tokens = commands.add_parser("tokens", help="manage id tokens (RFID cards, app ids)")
    token_commands = tokens.add_subparsers(dest="action", required=True)
    add = token_commands.add_parser("add", help="create or replace a token")
    add.add_argument("id_token")
    add.add_argument("--type", default="ISO14443", help="IdTokenType (default ISO14443)")
    add.add_argument("--group", help="group / parent id token")
    add.add_argument("--expires", help="expiry, ISO 8601 with offset (e.g. 2026-12-31T00:00:00Z)")
    add.add_argument("--blocked", action="store_true", help="create it blocked")
    add.add_argument("--note", help="free text for operators")
    token_commands.add_parser("list", help="list tokens")
    for name in ("block", "unblock"):
        cmd = token_commands.add_parser(name, help=f"{name} a token")
        cmd.add_argument("id_token")
    token_commands.add_parser(
        "delete", help="delete a token (it answers Invalid; its sessions keep naming it)"
    ).add_argument("id_token")
    for cmd in token_commands.choices.values():
        _database_options(cmd)

    keys = commands.add_parser("keys", help="manage operator API keys")
    key_commands = keys.add_subparsers(dest="action", required=True)
    key_create = key_commands.add_parser("create", help="create a key; it is printed once")
    key_create.add_argument("--role", required=True, choices=[r.value for r in Role])
    key_create.add_argument("--name", default="cli", help="who or what the key is for")
    cli_users.add_scope_arguments(key_create)
    key_commands.add_parser("list", help="list keys (never the keys themselves)")
    key_revoke = key_commands.add_parser("revoke", help="revoke a key by id")
    key_revoke.add_argument("key_id", type=int)
    for cmd in key_commands.choices.values():
        _database_options(cmd)

    stations = commands.add_parser("stations", help="manage stations and their credentials")
    station_commands = stations.add_subparsers(dest="action", required=True)
    st_add = station_commands.add_parser("add", help="register a station")
    st_add.add_argument("station_id")
    st_add.add_argument("--password", help="HTTP Basic password (profile 1/2), 16-40 characters")
    st_add.add_argument("--security-profile", type=int, choices=(0, 1, 2, 3))
    st_add.add_argument(
        "--pending", action="store_true", help="boot answers Pending until activated"
    )
    station_commands.add_parser("list", help="list stations")
    st_pw = station_commands.add_parser("set-password", help="set or clear a station password")
    st_pw.add_argument("station_id")
    st_pw.add_argument("--password", help="new password; omit with --clear")
    st_pw.add_argument("--clear", action="store_true", help="remove the password")
    for name, text in (
        ("block", "boot answers Rejected"),
        ("unblock", "boot answers Accepted"),
        ("activate", "boot answers Accepted (after pending)"),
    ):
        cmd = station_commands.add_parser(name, help=text)
        cmd.add_argument("station_id")
    st_dec = station_commands.add_parser(
        "decommission", help="refuse its connections and leave it out of lists; history kept"
    )
    st_dec.add_argument("station_id")
    st_dec.add_argument("--reason", help="why, for the audit")
    st_dec.add_argument("--force", action="store_true", help="even with open transactions")
    st_rec = station_commands.add_parser("recommission", help="let a decommissioned one back")
    st_rec.add_argument("station_id")
    st_rec.add_argument("--reason", help="why, for the audit")
    for cmd in station_commands.choices.values():
        _database_options(cmd)
    _cdr_commands(commands)
    cli_registry.add_parsers(commands, _database_options)
    cli_monitoring.add_parsers(commands, _database_options)
    cli_demo.add_parser(commands)
    cli_ca.add_parser(commands)
    cli_users.add_parsers(commands, _database_options)
    return parser


def _cdr_commands(commands: Any) -> None:
    cdr = commands.add_parser("cdr", help="charge detail records")
    cdr_commands = cdr.add_subparsers(dest="action", required=True)
    verify = cdr_commands.add_parser(
        "verify", help="re-hash every operator's CDR chain; exit 1 when any record was altered"
    )
    _database_options(verify)


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="PostgreSQL URL [env DATABASE_URL]")
    parser.add_argument(
        "--data-dir",
        help="data directory of the embedded PostgreSQL, as given to `csms serve` [env "
        "CSMS_DATA_DIR; default: var/ of the source checkout, else ~/.local/share/csms]",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except CsmsError as exc:
        print(f"csms: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every platform push at INFO: the outbox and metrics say it better
    for noisy in ("websockets", "pgserver", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "serve":
            _run(_serve(settings))
        elif args.command == "migrate":
            _run(_with_database(settings, _migrate, create=True))
        elif args.command == "tokens":
            _run(_with_database(settings, lambda pool: _tokens(args, pool)))
        elif args.command == "keys":
            _run(_with_database(settings, lambda pool: _keys(args, pool)))
        elif args.command == "stations":
            _run(_with_database(settings, lambda pool: _stations(args, pool)))
        elif args.command == cli_users.COMMAND:
            password: str | None = None
            if args.action == "create":
                cli_users.check_create(args)
                password = cli_users.read_password(args)
            _run(
                _with_database(
                    settings, lambda pool: cli_users.run(args, pool, CLI_ACTOR, password)
                )
            )
        elif args.command == "cdr":
            _run(_with_database(settings, _verify_cdrs))
        elif args.command in cli_registry.COMMANDS:
            _run(_with_database(settings, lambda pool: cli_registry.run(args, pool, CLI_ACTOR)))
        elif args.command == "report":
            _run(
                _with_database(
                    settings, lambda pool: cli_monitoring.report_month(args, pool, settings)
                )
            )
        elif args.command == cli_ca.COMMAND:
            cli_ca.run(args, settings)
        elif args.command == "demo":
            return _run_demo(args, settings)
    except NoDatabase as exc:
        print(
            f"csms: {exc}: start it with `csms serve` (or `csms migrate`), "
            "or set DATABASE_URL / --data-dir",
            file=sys.stderr,
        )
        return 1
    except CsmsError as exc:
        print(f"csms: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a port in use, an unreachable database: one line, not 50
        why = startup_errors.explain(exc, settings.database_url or "the embedded server")
        if why is None:
            raise
        print(f"csms {args.command}: {why}", file=sys.stderr)
        return 1
    return 0


def _run_demo(args: argparse.Namespace, settings: Settings) -> int:
    result: list[int] = []

    async def demo() -> None:
        result.append(await cli_demo.demo_city(args, settings))

    _run(demo())
    return result[0] if result else 1


def _run(coro: Awaitable[None]) -> None:
    try:
        import uvloop

        runner: Callable[[Any], Any] = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        runner = asyncio.run
    runner(coro)


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with bootstrap.running(settings) as csms:
        runtime.tune_gc()
        scheme = "wss" if settings.tls else "ws"
        host = settings.host if settings.host not in ("0.0.0.0", "::") else "localhost"
        web = f"http://{host}:{csms.http_port}"
        print(f"OCPP       {scheme}://{host}:{csms.ocpp_port}/ocpp/<station-id>")
        print(f"API        {web}/api/v1   (Authorization: Bearer <key>; reference at /docs)")
        print(f"dashboard  {web}/dashboard")
        print(f"metrics    {web}/metrics")
        print(f"health     {web}/healthz   {web}/readyz", flush=True)
        print(f"node {settings.node_id}; Ctrl-C or SIGTERM stops", flush=True)
        if csms.generated_admin_key:
            print(
                "\nNo admin API key existed, so one was created. It is shown only now:\n"
                f"    {csms.generated_admin_key}\n"
                "Use it as `Authorization: Bearer <key>`; create others with `csms keys create`.\n",
                flush=True,
            )
        await stop.wait()
        print("shutting down", flush=True)
    print("stopped", flush=True)


async def _with_database(
    settings: Settings, action: Callable[[database.Pool], Awaitable[None]], *, create: bool = False
) -> None:
    """Run `action` on the database `csms serve` uses (joining its embedded PostgreSQL when it
    runs). Only `migrate` may create one: elsewhere a missing database is an error, not a new
    empty one that the command then quietly fills."""
    async with bootstrap.database_url(settings, create=create) as url:
        await bootstrap.migrate(url)
        pool = await database.create_pool(url, min_size=1, max_size=2)
        try:
            await action(pool)
        finally:
            await pool.close()


async def _migrate(pool: database.Pool) -> None:
    version = await pool.fetchval("SELECT max(version) FROM schema_migrations")
    print(f"database schema at migration {version:04d}")


def _parse_expiry(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--expires {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InvalidInput("--expires needs a UTC offset, e.g. 2026-12-31T00:00:00+08:00")
    return moment


async def _tokens(args: argparse.Namespace, pool: database.Pool) -> None:
    store = TokenStore(pool)
    if args.action == "add":
        if not 1 <= len(args.id_token) <= MAX_ID_TOKEN_LENGTH:
            raise InvalidInput(f"an id token has 1..{MAX_ID_TOKEN_LENGTH} characters")
        token = await store.put(
            IdToken(
                args.id_token,
                args.type,
                args.group,
                _parse_expiry(args.expires),
                args.blocked,
            ),
            args.note,
            by=CLI_ACTOR,
            at=utcnow(),
        )
        print(f"token {token.id_token} saved")
    elif args.action == "list":
        print(f"{'id token':<36} {'type':<12} {'group':<20} {'expires':<25} blocked")
        for t in await store.all():
            expires = t.expires_at.isoformat() if t.expires_at else "-"
            print(
                f"{t.id_token:<36} {t.token_type:<12} {t.group_id or '-':<20} {expires:<25} "
                f"{'yes' if t.blocked else 'no'}"
            )
    elif args.action == "delete":
        await store.delete(args.id_token, by=CLI_ACTOR, at=utcnow())
        print(f"token {args.id_token} deleted")
    else:
        token = await store.set_blocked(args.id_token, args.action == "block")
        print(f"token {token.id_token} {'blocked' if token.blocked else 'unblocked'}")


async def _keys(args: argparse.Namespace, pool: database.Pool) -> None:
    store = ApiKeyStore(pool)
    if args.action == "create":
        scope = cli_users.scope_from(args)
        key = new_key()
        row = await store.create(args.name, args.role, key_hash(key), scope)
        where = "" if scope is None else f", {scope.describe()}"
        print(f"key {row['id']} ({row['role']}, {row['name']}{where}) — shown only now:\n{key}")
    elif args.action == "list":
        print(f"{'id':>4} {'role':<9} {'name':<30} {'last used':<26} {'revoked':<8} scope")
        for k in await store.all():
            used = k["last_used_at"].isoformat(timespec="seconds") if k["last_used_at"] else "-"
            seen = "whole network" if k["scope"] is None else k["scope"].describe()
            print(
                f"{k['id']:>4} {k['role']:<9} {k['name']:<30} {used:<26} "
                f"{'yes' if k['revoked_at'] else 'no':<8} {seen}"
            )
    elif not await store.revoke(args.key_id):
        raise NotFound(f"no live key {args.key_id}")
    else:
        print(f"key {args.key_id} revoked")


async def _verify_cdrs(pool: database.Pool) -> None:
    chains = await verify_chains(CdrStore(pool))
    if not chains:
        print("no CDRs yet")
    for chain in chains:
        state = "ok" if chain["ok"] else "BROKEN"
        print(f"operator {chain['operator_id']}: {chain['records']} records, chain {state}")
        for problem in chain["problems"]:
            print(f"  {problem}")
    broken = [c["operator_id"] for c in chains if not c["ok"]]
    if broken:
        raise Conflict(f"CDR chain broken for operator(s): {', '.join(broken)}")


async def _stations(args: argparse.Namespace, pool: database.Pool) -> None:
    store = StationStore(pool)
    if args.action == "add":
        problem = station_id_problem(args.station_id)
        if problem:
            raise InvalidInput(problem)
        state = AdminState.PENDING if args.pending else AdminState.ACTIVE
        pw = hash_password(args.password) if args.password else None
        _, created = await store.create(
            args.station_id,
            password_hash=pw,
            admin_state=state,
            security_profile=args.security_profile,
        )
        if not created:
            existing = await store.get_auth(args.station_id)
            if existing is not None and existing.decommissioned:
                raise Conflict(
                    f"station {args.station_id} is decommissioned: "
                    f"`csms stations recommission {args.station_id}` brings it back"
                )
            await store.update_auth(
                args.station_id,
                password_hash=pw,
                admin_state=state,
                security_profile=args.security_profile,
            )
        print(f"station {args.station_id} {'registered' if created else 'updated'}")
    elif args.action == "list":
        print(f"{'station':<24} {'state':<8} {'ver':<6} {'online':<7} {'auth':<9} last seen")
        for st in await store.all():
            seen = st["last_seen_at"].isoformat(timespec="seconds") if st["last_seen_at"] else "-"
            shown = "retired" if st["decommissioned_at"] else st["admin_state"]
            print(
                f"{st['id']:<24} {shown:<8} {st['ocpp_version'] or '-':<6} "
                f"{'yes' if st['connected'] else 'no':<7} "
                f"{'password' if st['has_password'] else 'none':<9} {seen}"
            )
    elif args.action == "decommission":
        left_open = await store.decommission(
            args.station_id, by=CLI_ACTOR, reason=args.reason, force=args.force, at=utcnow()
        )
        # a running CSMS closes its socket at its next admin-state round (seconds)
        print(f"station {args.station_id} decommissioned", end="")
        print(f"; transactions left open: {left_open}" if left_open else "")
    elif args.action == "recommission":
        await store.recommission(args.station_id, by=CLI_ACTOR, reason=args.reason, at=utcnow())
        print(f"station {args.station_id} back in service")
    elif args.action == "set-password":
        if args.clear == bool(args.password):
            raise InvalidInput("give either --password or --clear")
        await store.update_auth(
            args.station_id,
            password_hash=hash_password(args.password) if args.password else None,
            clear_password=args.clear,
        )
        print(f"station {args.station_id} password {'cleared' if args.clear else 'set'}")
    else:
        state = AdminState.BLOCKED if args.action == "block" else AdminState.ACTIVE
        await store.update_auth(args.station_id, admin_state=state)
        print(f"station {args.station_id} is {state.value}")


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
