"""`csms-sim platform serve|query`: run the fake monitoring platform, or query a CSMS as one."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from typing import Any

import httpx

from simulators.platform.client import PlatformClient, QueryError
from simulators.platform.codec import CodecError, dumps, loads
from simulators.platform.server import (
    CHARGE_ORDER,
    CHARGE_STATUS,
    STATION_INFO,
    STATION_STATUS,
    PlatformConfig,
    PlatformSimulator,
    Record,
)
from simulators.signals import stop_on_signals

# Demo-only keys: they are public, so never configure a real platform or CSMS with them.
DEMO_PLATFORM_OPERATOR_ID = "MA0PLAT01"
DEMO_OPERATOR_ID = "MA0CSMS01"
DEMO_OPERATOR_SECRET = "demo-operator-secret"
DEMO_DATA_SECRET = "DEMO-DATA-KEY-01"
DEMO_DATA_IV = "DEMO-DATA-IV-001"
DEMO_SIG_SECRET = "demo-sig-secret"


def _key_options(p: argparse.ArgumentParser, secret_help: str) -> None:
    p.add_argument(
        "--platform-operator-id", default=DEMO_PLATFORM_OPERATOR_ID, help="the platform's code"
    )
    p.add_argument("--operator-secret", default=DEMO_OPERATOR_SECRET, help=secret_help)
    p.add_argument("--data-secret", default=DEMO_DATA_SECRET, help="AES key, 16 ASCII chars")
    p.add_argument("--data-iv", default=DEMO_DATA_IV, help="AES IV, 16 ASCII characters")
    p.add_argument("--sig-secret", default=DEMO_SIG_SECRET, help="HMAC-MD5 key")


def add_platform_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    platform = commands.add_parser(
        "platform",
        help="a fake T/CEC 102 monitoring platform, or query a CSMS as one",
        description="The monitoring-platform side of T/CEC 102 (docs/tcec-wire.md). The key "
        "defaults are public demo values: use them only against a demo CSMS.",
    )
    actions = platform.add_subparsers(dest="platform_command", required=True)
    serve = actions.add_parser(
        "serve",
        help="receive a CSMS's pushes, print them, count them",
        description="Listen for the CSMS's notification_* pushes at <base path>/<method>. "
        "Each accepted push prints a line; Ctrl-C (or --duration) prints a summary. Steer it "
        'with POST /control/mode {"mode": "fail|busy|slow|ok", "count": N, "delay": S}, '
        "POST /control/reset and GET /control/stats.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8090, help="port (0: any free one)")
    serve.add_argument("--base-path", default="/evcs/v1", help="path the methods sit under")
    serve.add_argument("--operator-id", default=DEMO_OPERATOR_ID, help="the CSMS operator's code")
    _key_options(serve, "secret the CSMS sends in query_token")
    serve.add_argument("--token-lifetime", type=float, default=7200, help="token seconds")
    serve.add_argument(
        "--mode", choices=("ok", "fail", "busy", "slow"), default="ok", help="start misbehaving"
    )
    serve.add_argument("--delay", type=float, default=1.0, help="seconds per answer (slow)")
    serve.add_argument("--duration", type=float, default=None, help="exit after S seconds")
    serve.add_argument("--quiet", action="store_true", help="print only the summary")

    query = actions.add_parser(
        "query",
        help="call a CSMS's query endpoint and print the decoded answer",
        description="Fetch a token with query_token, then call METHOD with --data and print "
        "the answer (Ret, Msg and the decrypted Data). The answer's signature is checked.",
    )
    query.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000/evcs/v1")
    query.add_argument("method", help="e.g. query_stations_info, query_station_status")
    query.add_argument("--data", default="{}", help="request Data as JSON (default: {})")
    _key_options(query, "secret the CSMS issued to the platform")
    query.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP call")


async def run_platform_command(args: argparse.Namespace) -> int:
    if args.platform_command == "serve":
        return await serve(args)
    return await query(args)


def describe(record: Record) -> str:
    """One line for a received push: what a person watching a demo wants to see."""
    data = record.data
    if record.method == STATION_STATUS:
        info = data["ConnectorStatusInfo"]
        detail = f"connector {info['ConnectorID']} status {info['Status']}"
    elif record.method == CHARGE_ORDER:
        service = data.get("TotalSeviceMoney", data.get("TotalServiceMoney"))
        detail = (
            f"order {data['StartChargeSeq']} connector {data['ConnectorID']} "
            f"{data['TotalPower']} kWh, elec {data['TotalElecMoney']} + service {service} "
            f"= {data['TotalMoney']} CNY"
        )
    elif record.method == STATION_INFO:
        info = data["StationInfo"]
        detail = f"station {info['StationID']}, {len(info['EquipmentInfos'])} equipment"
    elif record.method == CHARGE_STATUS:
        detail = (
            f"charging {data['StartChargeSeq']} connector {data['ConnectorID']} "
            f"{data['TotalPower']} kWh, {data.get('TotalMoney', '?')} CNY so far"
        )
    else:
        detail = f"stats of station {data['StationStats']['StationID']}"
    stamp = record.received_at.astimezone().strftime("%H:%M:%S.%f")[:-3]
    return f"{stamp} {record.operator_id} {record.method} seq {record.seq}: {detail}"


async def serve(args: argparse.Namespace) -> int:
    try:
        config = PlatformConfig(
            platform_operator_id=args.platform_operator_id,
            operator_id=args.operator_id,
            operator_secret=args.operator_secret,
            data_secret=args.data_secret,
            data_iv=args.data_iv,
            sig_secret=args.sig_secret,
            token_lifetime=args.token_lifetime,
            base_path=args.base_path.rstrip("/"),
        )
    except ValueError as error:
        print(f"platform: {error}", file=sys.stderr)
        return 2

    def show(record: Record) -> None:
        print(describe(record), flush=True)

    sim = PlatformSimulator(config, on_record=None if args.quiet else show)
    if args.mode != "ok":
        sim.set_mode(args.mode, delay=args.delay)
    stop = asyncio.Event()
    with stop_on_signals(stop):
        try:
            await sim.start(args.host, args.port)
        except OSError as error:
            print(f"platform: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
            return 1
        try:
            print(f"platform listening on {sim.url} (control: {sim.control_url})", flush=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.duration):
                    await stop.wait()
        finally:
            await sim.stop()
    print(summary(sim), flush=True)
    return 0


def summary(sim: PlatformSimulator) -> str:
    stats = sim.stats()
    lines = [f"requests {stats['requests']}, accepted {stats['received']}"]
    lines += [f"  {method}: {n}" for method, n in sorted(stats["counts"].items())]
    refused = ", ".join(f"Ret {ret}: {n}" for ret, n in stats["rejections"].items())
    lines.append(f"refused: {refused or 'none'}")
    lines.append(
        f"orders {stats['orders']}, disputed {stats['disputed']}, "
        f"duplicates {stats['duplicate_orders']}, tokens issued {stats['tokens_issued']}"
    )
    return "\n".join(lines)


async def query(args: argparse.Namespace) -> int:
    try:
        data: Any = loads(args.data)
        client = PlatformClient(
            args.url,
            platform_operator_id=args.platform_operator_id,
            operator_secret=args.operator_secret,
            data_secret=args.data_secret,
            data_iv=args.data_iv,
            sig_secret=args.sig_secret,
            timeout=args.timeout,
        )
    except ValueError as error:
        print(f"platform query: {error}", file=sys.stderr)
        return 2
    async with client:
        try:
            if args.method == "query_token":
                answer = await client.query(
                    "query_token",
                    data
                    or {
                        "OperatorID": args.platform_operator_id,
                        "OperatorSecret": args.operator_secret,
                    },
                )
            else:
                await client.fetch_token()
                answer = await client.query(args.method, data)
        except (QueryError, CodecError, httpx.HTTPError) as error:
            print(f"platform query: {error}", file=sys.stderr)
            return 1
    print(f"Ret {answer.ret} Msg {json.dumps(answer.msg, ensure_ascii=False)}")
    if answer.data is not None:
        print(dumps(answer.data, indent=2))
    return 0 if answer.ret == 0 else 1
