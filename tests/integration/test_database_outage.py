"""The database goes away and comes back: every route answers 503 with Retry-After on a kept
connection, stations get 503 at the handshake and CALLERROR for messages, the log says it once,
and everything works again afterwards with nothing acknowledged lost.

The CSMS talks to PostgreSQL through a TCP proxy this test can cut (every connection dropped,
new ones refused) and restore, which is what a restart or failover of PostgreSQL looks like.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from websockets.exceptions import InvalidStatus

from csms.bootstrap import Running, running
from csms.clock import isoformat, utcnow
from csms.domain.token import IdToken
from csms.store.tokens import TokenStore
from tests.conftest import ADMIN_TOKEN, api_for, make_settings
from tests.ocpp_client import OcppClient, open_client

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}
PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
# Answer without the database, by design: liveness, scrapes, the API description, the static
# dashboard; /readyz answers but says 503.
WITHOUT_DATABASE = {"/healthz", "/metrics", "/openapi.json", "/docs", "/redoc", "/dashboard"}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


class CuttableProxy:
    """127.0.0.1 TCP -> the embedded PostgreSQL's Unix socket, with a switch."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self._upstream)
        except OSError:
            writer.close()
            return
        pair = {writer, up_writer}
        self._open |= pair
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._open -= pair

    async def cut(self) -> None:
        """Refuse new connections and drop every open one, both ends."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._server = None

    async def restore(self) -> None:
        await self.start()


def _proxied(database_url: str) -> tuple[str, str]:
    """(the Unix socket of the embedded server, the same database over TCP at 127.0.0.1)."""
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    directory = query["host"][0]
    port = query.get("port", ["5432"])[0]
    user = parts.username or "postgres"
    return f"{directory}/.s.PGSQL.{port}", f"postgresql://{user}@127.0.0.1:{{port}}{parts.path}"


def _operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (method, path) of the API description with its parameters filled in, plus the
    routes it leaves out."""
    found = [
        (method.upper(), PARAM.sub(lambda m: "1" if m[1].endswith("id") else "X", path))
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    hidden = [
        ("GET", "/metrics"),
        ("GET", "/dashboard"),
        ("POST", "/api/v1/stations/X/commands/NoSuchCommand"),
    ]
    return found + hidden


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


async def _call_error(cp: OcppClient, action: str, payload: dict[str, Any]) -> str:
    code, description = await cp.call_error(action, payload)
    assert code == "InternalError", (action, code, description)
    return description


async def test_database_outage_is_a_clean_503_and_recovers(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    socket_path, url_template = _proxied(database_url)
    proxy = CuttableProxy(socket_path)
    await proxy.start()
    settings = make_settings(url_template.format(port=proxy.port), node_timeout=3.0)
    async with running(settings) as csms, api_for(csms) as api:
        await TokenStore(csms.pool).put(IdToken("CARD-1"))
        http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{csms.http_port}",
            timeout=10,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        cp = await open_client(csms.ocpp_port, "OUT-1")
        assert (await cp.call("BootNotification", BOOT))["status"] == "Accepted"
        start = await cp.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "CARD-1", "meterStart": 1000, "timestamp": _now()},
        )
        tx = start["transactionId"]
        meter = {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [
                {"timestamp": _now(), "sampledValue": [{"value": "1500", "unit": "Wh"}]}
            ],
        }
        await cp.call("MeterValues", meter)
        schema = (await http.get("/openapi.json")).json()
        before = await http.get("/api/v1/stations", headers=api.headers("viewer"))
        assert before.status_code == 200
        connection = _local_port(before)

        caplog.clear()
        caplog.set_level(logging.INFO)
        await proxy.cut()
        cut_at = time.monotonic()

        # -- every route, on one kept-alive connection -----------------------------------------
        keys = {
            "viewer": api.headers("viewer"),
            "operator": api.headers("operator"),
            "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},  # checked without the database
            "unknown key": {"Authorization": "Bearer not-a-key-we-know"},
        }
        answers: dict[int, int] = {}
        unavailable = 0
        # Every route as a viewer (its key cannot be checked) and with the bootstrap admin token
        # (checked without the database, so the route itself meets the outage); an operator and
        # an unknown key on a sample of writes.
        sweep = [
            (method, path, role)
            for method, path in _operations(schema)
            if path != "/api/v1/events"  # a stream: below, on its own connection
            for role in ("viewer", "admin")
        ]
        sweep += [
            (method, path, role)
            for method, path in _operations(schema)
            if method != "GET" and "/stations/" in path
            for role in ("operator", "unknown key")
        ][:12]
        for method, path, role in sweep:
            headers = keys[role]
            body = {} if method in {"POST", "PUT", "PATCH"} else None
            response = await http.request(method, path, headers=headers, json=body)
            status = response.status_code
            answers[status] = answers.get(status, 0) + 1
            where = f"{method} {path} as {role}: {status} {response.text[:200]}"
            assert status < 500 or status == 503, where
            assert _local_port(response) == connection, f"connection not kept: {where}"
            assert response.headers.get("connection") != "close", where
            if status == 503:
                unavailable += 1
                assert response.headers["Retry-After"].isdigit(), where
                if path != "/readyz":
                    assert response.json()["error"] == "database_unavailable", where
            elif path.startswith("/api/v1/") and role != "admin" and path != "/api/v1/session":
                # a key cannot be checked without the database (signing in takes no key: an
                # empty body is a 422 before any database work)
                pytest.fail(f"expected 503: {where}")
            elif not path.startswith("/api/v1/"):
                # liveness, scrapes, docs, the dashboard; T/CEC answers with a Ret (below)
                assert path in WITHOUT_DATABASE or path.startswith("/evcs/"), where
        assert (await http.get("/healthz")).status_code == 200  # liveness: the process is fine
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"].isdigit()
        no_key = await http.get("/api/v1/stations")
        assert no_key.status_code == 401  # a missing key needs no database to refuse
        # T/CEC queries answer HTTP 200 with a Ret (102.4): 500 "system error", no traceback
        envelope = {
            "OperatorID": "MA0000001",
            "Data": "x",
            "TimeStamp": "20250101000000",
            "Seq": "0001",
            "Sig": "0" * 32,
        }
        query = await http.post("/evcs/v1/query_stations_info", json=envelope)
        assert query.status_code == 200 and query.json()["Ret"] == 500

        # the live feed: the bootstrap admin key needs no lookup, the stream needs no database
        async with httpx.AsyncClient(base_url=str(http.base_url), timeout=10) as feed:
            async with feed.stream("GET", "/api/v1/events", headers=keys["admin"]) as stream:
                assert stream.status_code == 200
            viewer_feed = await feed.get("/api/v1/events", headers=keys["viewer"])
            assert viewer_feed.status_code == 503

        # -- stations: a new one is told 503, a connected one gets CALLERRORs and stays ----------
        with pytest.raises(InvalidStatus) as refused:
            await open_client(csms.ocpp_port, "OUT-NEW")
        assert refused.value.response.status_code == 503
        assert refused.value.response.headers["Retry-After"].isdigit()
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
        assert "database is unavailable" in await _call_error(cp, "StatusNotification", status)
        await _call_error(cp, "MeterValues", meter)
        stop = {
            "transactionId": tx,
            "meterStop": 2500,
            "timestamp": _now(),
            "idTag": "CARD-1",
            "reason": "Local",
        }
        await _call_error(cp, "StopTransaction", stop)  # not acknowledged: it must come again
        assert "currentTime" in await cp.call("Heartbeat", {})  # the socket is still served
        await asyncio.sleep(1.5)  # background rounds (sweeps, node heartbeat) meet the outage
        outage_seconds = time.monotonic() - cut_at

        during = list(caplog.records)
        tracebacks = [r for r in during if r.exc_info is not None]
        assert not tracebacks, [f"{r.name}: {r.getMessage()}" for r in tracebacks]
        said = [r.getMessage() for r in during if r.name == "csms.outage"]
        # one line at the start, then at most one per 10 s
        assert 1 <= len(said) <= 1 + int(outage_seconds // 10), said
        assert said[0].startswith("database unavailable: "), said
        warnings = [r for r in during if r.levelno >= logging.WARNING]
        assert len(warnings) <= 5, [f"{r.name}: {r.getMessage()}" for r in warnings]

        # -- back: requests succeed on the same connection, stations boot, nothing lost -------
        await proxy.restore()
        deadline = time.monotonic() + 10
        while (await http.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "not ready 10 s after the database came back"
            await asyncio.sleep(0.2)
        back = await http.get("/api/v1/stations", headers=keys["viewer"])
        assert back.status_code == 200 and _local_port(back) == connection
        assert any(
            r.name == "csms.outage" and r.getMessage().startswith("database available again")
            for r in caplog.records
        )
        fresh = await open_client(csms.ocpp_port, "OUT-NEW")
        assert (await fresh.call("BootNotification", BOOT))["status"] == "Accepted"
        await fresh.close()
        await cp.call("StatusNotification", status)
        assert (await cp.call("StopTransaction", stop))["idTagInfo"]["status"] == "Accepted"
        detail = (await http.get(f"/api/v1/transactions/{tx}", headers=keys["viewer"])).json()
        assert detail["status"] == "closed"
        assert (detail["meter_start_wh"], detail["meter_stop_wh"]) == (1000, 2500)
        assert [s["value"] for s in detail["samples"]] == ["1500"]  # acknowledged, kept
        scrape = (await http.get("/metrics")).text
        assert re.search(r'csms_database_unavailable_total\{edge="api"\} [1-9]', scrape)
        assert re.search(r'csms_database_unavailable_total\{edge="ocpp"\} [1-9]', scrape)
        assert re.search(r'csms_database_unavailable_total\{edge="handshake"\} [1-9]', scrape)
        await cp.close()
        await http.aclose()
        print(
            f"outage {outage_seconds:.1f} s; answers {sorted(answers.items())}; 503s {unavailable}"
        )


# -- disconnects the outage kept out of the database ----------------------------------------


async def _forgotten(csms: Running, station_id: str) -> None:
    """Wait (bounded) until the gateway let the station's socket go, then for its disconnect
    to meet the outage (refused at once: the proxy takes no connection)."""
    async with asyncio.timeout(10):
        while csms.gateway.registry.get(station_id) is not None:
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)


async def _offline(db: asyncpg.Connection, station_id: str) -> asyncpg.Record:
    """The station's row once a disconnect is recorded (bounded wait)."""
    async with asyncio.timeout(10):
        while True:
            row = await db.fetchrow(
                "SELECT connected, disconnected_at, offline_reason FROM stations WHERE id = $1",
                station_id,
            )
            if row is not None and not row["connected"]:
                return row
            await asyncio.sleep(0.1)


async def test_a_disconnect_during_an_outage_is_recorded_afterwards_when_it_happened(
    database_url: str,
) -> None:
    socket_path, url_template = _proxied(database_url)
    proxy = CuttableProxy(socket_path)
    await proxy.start()
    settings = make_settings(url_template.format(port=proxy.port), node_timeout=3.0)
    db = await asyncpg.connect(database_url)  # past the proxy: the test sees through the outage
    try:
        async with running(settings) as csms:
            cp = await open_client(csms.ocpp_port, "OUT-GONE")
            assert (await cp.call("BootNotification", BOOT))["status"] == "Accepted"
            await proxy.cut()
            before = utcnow()
            await cp.close()
            await _forgotten(csms, "OUT-GONE")
            after = utcnow()
            await asyncio.sleep(1.5)  # sweeps meet the outage and keep it
            await proxy.restore()
            restored = utcnow()
            row = await _offline(db, "OUT-GONE")
            assert before <= row["disconnected_at"] <= after < restored, (before, row, after)
            assert row["offline_reason"] == "closed 1000"
            (closed,) = await db.fetch(
                "SELECT disconnected_at, close_code FROM station_connections "
                "WHERE station_id = 'OUT-GONE'"
            )
            assert (closed["disconnected_at"], closed["close_code"]) == (
                row["disconnected_at"],
                1000,
            )
    finally:
        await db.close()


async def test_a_disconnect_that_cannot_be_recorded_blocks_neither_others_nor_the_heartbeat(
    database_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued disconnect whose write fails for another reason than the outage is logged and
    dropped once the database is back: the disconnects queued behind it are recorded, and the
    node heartbeat (after the sweep) goes on, so other nodes do not take this one for dead."""
    socket_path, url_template = _proxied(database_url)
    proxy = CuttableProxy(socket_path)
    await proxy.start()
    settings = make_settings(
        url_template.format(port=proxy.port), node_id="replay-node", node_timeout=3.0
    )
    db = await asyncpg.connect(database_url)
    try:
        async with running(settings) as csms:
            stations = csms.services.stations
            record = stations.disconnected

            tries: list[str] = []

            async def failing_for_the_poison(station_id: str, *args: Any, **kw: Any) -> Any:
                tries.append(station_id)
                if station_id == "OUT-POISON" and tries.count(station_id) > 1:  # the replay
                    raise ValueError("a write that can never succeed")
                return await record(station_id, *args, **kw)  # the first meets the outage

            monkeypatch.setattr(stations, "disconnected", failing_for_the_poison)
            poison = await open_client(csms.ocpp_port, "OUT-POISON")
            later = await open_client(csms.ocpp_port, "OUT-LATER")
            for cp in (poison, later):
                assert (await cp.call("BootNotification", BOOT))["status"] == "Accepted"
            await proxy.cut()
            await poison.close()
            await _forgotten(csms, "OUT-POISON")
            await later.close()
            await _forgotten(csms, "OUT-LATER")
            caplog.clear()
            caplog.set_level(logging.INFO)
            await proxy.restore()
            restored = utcnow()
            await _offline(db, "OUT-LATER")
            async with asyncio.timeout(10):
                while True:
                    beat = await db.fetchval(
                        "SELECT last_seen FROM nodes WHERE node_id = 'replay-node'"
                    )
                    if beat > restored:
                        break
                    await asyncio.sleep(0.1)
            dropped = [
                r for r in caplog.records if r.getMessage().startswith("dropped the disconnect")
            ]
            assert len(dropped) == 1, [r.getMessage() for r in caplog.records]
            assert "OUT-POISON" in dropped[0].getMessage()
            assert not [
                r for r in caplog.records if r.getMessage().startswith("maintenance failed")
            ]
    finally:
        await db.close()


def _now() -> str:
    return isoformat(utcnow())


async def test_a_close_reason_with_a_nul_is_recorded(csms: Running, database_url: str) -> None:
    # PostgreSQL stores no NUL: the station's own close reason must not keep it "connected".
    cp = await open_client(csms.ocpp_port, "NUL-CLOSE")
    assert (await cp.call("BootNotification", BOOT))["status"] == "Accepted"
    await cp.ws.close(4000, "bye\x00now")
    db = await asyncpg.connect(database_url)
    try:
        row = await _offline(db, "NUL-CLOSE")
        assert row["offline_reason"] == "closed 4000 bye\ufffdnow"
    finally:
        await db.close()
