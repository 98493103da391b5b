"""`csms registry import|export` and `csms places import`: the registry as files officials keep."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from csms.clock import utcnow
from csms.errors import InvalidInput
from csms.monitoring.registry_csv import EXCEL_BOM, counted, render, render_for_excel
from csms.store import database
from csms.store.registry import RegistryStore

COMMANDS = ("registry", "places")
FILE_HELP = "registry CSV: UTF-8, or GBK/GB18030 as Excel saves it; a header row naming columns"


def add_parsers(commands: Any, database_options: Any) -> None:
    registry = commands.add_parser("registry", help="the station registry as CSV")
    registry_commands = registry.add_subparsers(dest="action", required=True)
    imp = registry_commands.add_parser(
        "import", help="create/update stations from a registry CSV; a bad row stores nothing"
    )
    imp.add_argument("file", help=FILE_HELP)
    imp.add_argument("--dry-run", action="store_true", help="check only; store nothing")
    exp = registry_commands.add_parser(
        "export", help="write the registry as CSV (UTF-8 with a byte-order mark, for Excel)"
    )
    exp.add_argument("file", nargs="?", help="output file (default: standard output)")
    places = commands.add_parser("places", help="the reference places the plan counts")
    places_commands = places.add_subparsers(dest="action", required=True)
    pim = places_commands.add_parser("import", help="import places from CSV or JSON (*.json)")
    pim.add_argument("file", help="places CSV, or a JSON list of places")
    pim.add_argument("--replace", action="store_true", help="delete places not in the file")
    pim.add_argument("--dry-run", action="store_true", help="check only; store nothing")
    for cmd in (*registry_commands.choices.values(), *places_commands.choices.values()):
        database_options(cmd)


def summary(name: str, noun: str, counts: Mapping[str, int], *, dry_run: bool) -> str:
    """One line saying what an import did, or (checked only) would do:
    'registry.csv: 3 stations imported (2 created, 1 updated)'."""
    verbs = [("created", "create"), ("updated", "update")]
    if "removed" in counts:
        verbs.append(("removed", "remove"))
    total = counted(counts["imported"], noun)
    if dry_run:
        would = ", ".join(f"{verb} {counts[key]}" for key, verb in verbs)
        return f"{name}: {total} checked, nothing stored (an import would {would})"
    did = ", ".join(f"{counts[key]} {key}" for key, _ in verbs)
    return f"{name}: {total} imported ({did})"


async def run(args: argparse.Namespace, pool: database.Pool, actor: str) -> None:
    """Carry out a registry or places command; `actor` is the audit's name for the caller."""
    store = RegistryStore(pool)
    await store.ensure_default_plan()
    if args.command == "registry" and args.action == "export":
        rows = await store.export_rows()
        if args.file:
            await asyncio.to_thread(Path(args.file).write_bytes, render_for_excel(rows))
        else:
            sys.stdout.write(EXCEL_BOM + render(rows))
        return
    try:
        data = await asyncio.to_thread(Path(args.file).read_bytes)
    except OSError as exc:
        raise InvalidInput(f"cannot read {args.file}: {exc.strerror}") from None
    if args.command == "registry":
        result = await store.import_csv(data, by=actor, at=utcnow(), dry_run=args.dry_run)
        print(summary(args.file, "station", result.as_dict(), dry_run=args.dry_run))
        return
    content: bytes | list[Any] = data
    if args.file.lower().endswith(".json"):
        try:
            content = json.loads(data)
        except ValueError as exc:
            raise InvalidInput(f"{args.file} is not JSON: {exc}") from None
    counts = await store.import_places_data(content, replace=args.replace, dry_run=args.dry_run)
    print(summary(args.file, "place", counts, dry_run=args.dry_run))
