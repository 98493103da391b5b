"""The fake monitoring platform: takes pushes over HTTP/1.1, checks them, counts, misbehaves."""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import h11

from simulators.platform.codec import (
    EnvelopeError,
    Keys,
    Request,
    Ret,
    dumps,
    encode,
    open_request,
    seal_answer,
)

log = logging.getLogger(__name__)

MODES = ("ok", "fail", "busy", "slow")
STATION_INFO = "notification_stationInfo"
STATION_STATUS = "notification_stationStatus"
CHARGE_ORDER = "notification_charge_order_info"
OPERATION_STATS = "notification_operation_stats_info"
CHARGE_STATUS = "notification_equip_charge_status"
NOTIFICATIONS = (STATION_INFO, STATION_STATUS, CHARGE_ORDER, OPERATION_STATS, CHARGE_STATUS)
CHARGE_SEQ_STATS = frozenset({1, 2, 3, 4, 5})
CONNECTOR_STATUSES = frozenset({0, 1, 2, 3, 4, 255})
ORDER_SEQ_LENGTH = 27
ORDER_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
READ_SIZE = 64 * 1024
STOP_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    """Who the platform is, which operator it accepts, and the secrets the two share."""

    platform_operator_id: str
    operator_id: str
    operator_secret: str
    data_secret: str
    data_iv: str
    sig_secret: str
    token_lifetime: float = 7200
    base_path: str = "/evcs/v1"

    def __post_init__(self) -> None:
        self.keys()  # fails early on keys of the wrong length
        for name in ("platform_operator_id", "operator_id"):
            if len(getattr(self, name)) != 9:
                raise ValueError(f"{name} must be a 9-character operator code")
        if self.token_lifetime <= 0:
            raise ValueError("token_lifetime must be positive")
        if not self.base_path.startswith("/") or self.base_path.endswith("/"):
            raise ValueError("base_path must start with / and not end with one")

    def keys(self) -> Keys:
        return Keys(self.data_secret, self.data_iv, self.sig_secret)


@dataclass(frozen=True, slots=True)
class Record:
    """One accepted notification, as decoded, in arrival order."""

    method: str
    operator_id: str
    data: dict[str, Any]
    received_at: datetime
    seq: str


@dataclass(frozen=True, slots=True)
class Mode:
    """How the platform answers: `count` requests left in this mode (None: until changed)."""

    kind: str = "ok"
    delay: float = 0.0
    count: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.kind, "delay": self.delay, "count": self.count}


@dataclass(slots=True)
class _Token:
    operator_id: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class OrderCheck:
    """What a charge order says about itself: its keys and why its lines miss the totals."""

    start_charge_seq: str
    connector_id: str
    problems: list[str] = field(default_factory=list)


def _business(msg: str) -> EnvelopeError:
    return EnvelopeError(Ret.BAD_DATA, msg)


def _object(mapping: dict[str, Any], name: str) -> dict[str, Any]:
    value = mapping.get(name)
    if not isinstance(value, dict):
        raise _business(f"{name} missing or not an object")
    return value


def _text(mapping: dict[str, Any], name: str, where: str = "") -> str:
    value = mapping.get(name)
    if not isinstance(value, str) or not value:
        raise _business(f"{where}{name} missing or not a non-empty string")
    return value


def _integer(mapping: dict[str, Any], name: str, where: str = "") -> int:
    value = mapping.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _business(f"{where}{name} missing or not an integer")
    return value


def _number(mapping: dict[str, Any], name: str, where: str = "") -> Decimal:
    value = mapping.get(name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _business(f"{where}{name} missing or not a number")
    return Decimal(value)


def _either(mapping: dict[str, Any], standard: str, where: str = "") -> Decimal:
    """The standard's `Sevice*` spelling, or else the corrected `Service*` one."""
    if standard in mapping:
        return _number(mapping, standard, where)
    variant = standard.replace("Sevice", "Service")
    if variant in mapping:
        return _number(mapping, variant, where)
    raise _business(f"{where}{standard} (or {variant}) missing")


def _moment(mapping: dict[str, Any], name: str, where: str = "") -> datetime:
    text = _text(mapping, name, where)
    try:
        return datetime.strptime(text, ORDER_TIME_FORMAT)
    except ValueError as error:
        raise _business(f"{where}{name} {text!r} is not yyyy-MM-dd HH:mm:ss") from error


def check_order(data: dict[str, Any], operator_id: str) -> OrderCheck:
    """Raise 4004 for a missing or mistyped field; list the inconsistencies that dispute it."""
    seq = _text(data, "StartChargeSeq")
    if len(seq) != ORDER_SEQ_LENGTH or not seq.startswith(operator_id):
        raise _business(f"StartChargeSeq {seq!r} is not OperatorID + number, 27 characters")
    connector = _text(data, "ConnectorID")
    start, end = _moment(data, "StartTime"), _moment(data, "EndTime")
    total_power = _number(data, "TotalPower")
    total_elec = _number(data, "TotalElecMoney")
    total_service = _either(data, "TotalSeviceMoney")
    total_money = _number(data, "TotalMoney")
    _integer(data, "StopReason")
    sum_period = _integer(data, "SumPeriod")
    details = data.get("ChargeDetails")
    if not isinstance(details, list):
        raise _business("ChargeDetails missing or not a list")
    power = elec = service = Decimal(0)
    for index, line in enumerate(details):
        where = f"ChargeDetails[{index}]."
        if not isinstance(line, dict):
            raise _business(f"ChargeDetails[{index}] is not an object")
        _moment(line, "DetailStartTime", where)
        _moment(line, "DetailEndTime", where)
        _number(line, "ElecPrice", where)
        _either(line, "SevicePrice", where)
        power += _number(line, "DetailPower", where)
        elec += _number(line, "DetailElecMoney", where)
        service += _either(line, "DetailSeviceMoney", where)
    problems = []
    if sum_period != len(details):
        problems.append(f"SumPeriod {sum_period} but {len(details)} ChargeDetails")
    if total_power != power:
        problems.append(f"TotalPower {total_power} but the lines add up to {power}")
    if total_elec != elec:
        problems.append(f"TotalElecMoney {total_elec} but the lines add up to {elec}")
    if total_service != service:
        problems.append(f"total service money {total_service} but the lines add up to {service}")
    if total_money < total_elec + total_service:
        problems.append(f"TotalMoney {total_money} < {total_elec} + {total_service}")
    if end < start:
        problems.append(f"EndTime {end} before StartTime {start}")
    return OrderCheck(seq, connector, problems)


def _json_response(status: int, payload: Any) -> tuple[int, bytes]:
    return status, dumps(payload).encode()


class PlatformSimulator:
    """A monitoring platform for tests and demos: records what it accepts, counts what it refuses.

    Protocol requests are POSTs to `<base_path>/<method>`; every answer is HTTP 200 with a
    signed envelope. An unknown method is Ret 4004 (not HTTP 404), so a pusher sees it the way
    it sees other refusals. Checks run in this order: the mode (fail/busy answer at once, slow
    waits), the method, the Bearer token (4002), the envelope (4003, then 4001, then 4004), the
    token's operator against OperatorID (4002), then the business fields (4004). Simulated
    fail/busy answers are counted in `rejections` too. `/control/stats` (GET), `/control/mode`
    and `/control/reset` (POST) steer it from outside the process.
    """

    def __init__(
        self,
        config: PlatformConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_record: Callable[[Record], None] | None = None,
    ) -> None:
        self.config = config
        self._keys = config.keys()
        self._clock = clock
        self._on_record = on_record
        self._server: asyncio.Server | None = None
        self._generation = 0
        self._host = ""
        self._port = 0
        self._serving: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._accepted: set[asyncio.Task[Any]] = set()
        self._waiters: set[asyncio.Future[None]] = set()
        self._tokens: dict[str, _Token] = {}
        self._mode = Mode()
        self._handlers: dict[str, Callable[[Request], dict[str, Any]]] = {
            STATION_INFO: self._station_info,
            STATION_STATUS: self._station_status,
            CHARGE_ORDER: self._charge_order,
            OPERATION_STATS: self._operation_stats,
            CHARGE_STATUS: self._charge_status,
        }
        self.received: list[Record] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self.confirm_results: dict[str, int] = {}
        self.disputes: dict[str, list[str]] = {}
        self.disputed = 0
        self.duplicate_orders = 0
        self.rejections: Counter[int] = Counter()
        self.requests = 0
        self.tokens_issued = 0
        self.token_failures = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen (again); port 0 picks a free one, the same port after stop() is fine."""
        if self._server is not None:
            raise RuntimeError("the platform is already listening")
        self._generation += 1
        self._server = await asyncio.start_server(
            functools.partial(self._connection, self._generation),
            host,
            port,
            reuse_address=True,
            limit=READ_SIZE,
        )
        self._host = host
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every connection, so the port refuses: the platform is down."""
        server, self._server = self._server, None
        if server is None:
            return
        self._generation += 1
        server.close()
        for task, writer in list(self._serving.items()):
            writer.transport.abort()
            task.cancel()
        tasks = {*self._serving, *self._accepted}
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
        await server.wait_closed()

    async def __aenter__(self) -> Self:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the platform has not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL the CSMS pushes to, e.g. http://127.0.0.1:8090/evcs/v1."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}{self.config.base_path}"

    @property
    def control_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/control"

    @property
    def listening(self) -> bool:
        return self._server is not None

    # -- steering ----------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, kind: str, *, count: int | None = None, delay: float = 1.0) -> Mode:
        """`ok`, `fail` (Ret 500), `busy` (Ret -1) or `slow` (wait `delay` s, then answer).

        With `count`, only the next `count` protocol requests; then back to `ok`.
        """
        if kind not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if count is not None and (isinstance(count, bool) or count < 1):
            raise ValueError("count must be a positive integer")
        if not math.isfinite(delay) or delay < 0:
            raise ValueError("delay must be a non-negative number of seconds")
        self._mode = Mode("ok") if kind == "ok" else Mode(kind, delay, count)
        return self._mode

    def _take_mode(self) -> Mode:
        mode = self._mode
        if mode.count is not None:
            left = mode.count - 1
            self._mode = Mode("ok") if left <= 0 else Mode(mode.kind, mode.delay, left)
        return mode

    def expire_tokens(self) -> None:
        """Make every token issued so far expire now (the pusher must fetch a new one)."""
        now = self._clock()
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, now)

    def reset(self) -> None:
        """Forget records and counts and go back to `ok`; issued tokens stay valid."""
        self._mode = Mode()
        self.received.clear()
        self.orders.clear()
        self.confirm_results.clear()
        self.disputes.clear()
        self.disputed = 0
        self.duplicate_orders = 0
        self.rejections.clear()
        self.requests = 0
        self.tokens_issued = 0
        self.token_failures = 0
        self._notify()

    # -- what arrived ------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Accepted notifications by method."""
        return dict(Counter(record.method for record in self.received))

    def statuses_by_connector(self) -> dict[str, list[int]]:
        """Every accepted connector Status, per ConnectorID, in arrival order."""
        statuses: dict[str, list[int]] = {}
        for record in self.received:
            if record.method == STATION_STATUS:
                info = record.data["ConnectorStatusInfo"]
                statuses.setdefault(info["ConnectorID"], []).append(info["Status"])
        return statuses

    def stats(self) -> dict[str, Any]:
        """The counts as plain JSON (what GET /control/stats answers)."""
        return {
            "requests": self.requests,
            "received": len(self.received),
            "counts": self.counts(),
            "rejections": {str(ret): n for ret, n in sorted(self.rejections.items())},
            "orders": len(self.orders),
            "disputed": self.disputed,
            "duplicate_orders": self.duplicate_orders,
            "tokens_issued": self.tokens_issued,
            "token_failures": self.token_failures,
            "mode": self._mode.as_json(),
        }

    async def wait_for(
        self, predicate: Callable[[PlatformSimulator], bool], timeout: float = 10.0
    ) -> None:
        """Return once `predicate(self)` holds, re-checked after every request; TimeoutError."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while not predicate(self):
                waiter: asyncio.Future[None] = loop.create_future()
                self._waiters.add(waiter)
                try:
                    await waiter
                finally:
                    self._waiters.discard(waiter)

    def _notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    # -- HTTP --------------------------------------------------------------------------------

    async def _connection(
        self, generation: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve in a task of our own, so stop() can cancel it without asyncio (3.11) logging
        the cancelled callback task as an error."""
        accepted = asyncio.current_task()
        if generation != self._generation or accepted is None:  # accepted just before stop()
            writer.transport.abort()
            return
        serving = asyncio.create_task(self._serve_connection(reader, writer))
        self._serving[serving] = writer
        self._accepted.add(accepted)
        try:
            await asyncio.wait([serving])
        except asyncio.CancelledError:
            serving.cancel()
            raise
        finally:
            self._serving.pop(serving, None)
            self._accepted.discard(accepted)
        if not serving.cancelled() and serving.exception() is not None:
            log.error("platform connection failed", exc_info=serving.exception())

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await self._serve_http(reader, writer)
        except (ConnectionError, OSError):
            pass  # the client went away; nothing to answer
        finally:
            writer.close()

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        while True:
            try:
                event = await self._next_event(conn, reader)
                if not isinstance(event, h11.Request):
                    return  # closed between requests
                if conn.they_are_waiting_for_100_continue:  # curl does, for bodies over 1 KB
                    writer.write(
                        conn.send(h11.InformationalResponse(status_code=100, headers=[])) or b""
                    )
                body = await self._read_body(conn, reader)
            except h11.RemoteProtocolError as error:
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    message = {"error": str(error) or "malformed request"}
                    status = error.error_status_hint
                    await self._respond(conn, writer, *_json_response(status, message), close=True)
                return
            status, payload = await self._route(event, body)
            await self._respond(conn, writer, status, payload)
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    @staticmethod
    async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            conn.receive_data(await reader.read(READ_SIZE))

    async def _read_body(self, conn: h11.Connection, reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self._next_event(conn, reader)
            if isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    raise h11.RemoteProtocolError("body too large", error_status_hint=413)
                chunks.append(bytes(event.data))
            else:
                raise h11.RemoteProtocolError("request ended early")

    @staticmethod
    async def _respond(
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        *,
        close: bool = False,
    ) -> None:
        headers = [
            ("content-type", "application/json; charset=utf-8"),
            ("content-length", str(len(body))),
        ]
        if close:
            headers.append(("connection", "close"))
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
        writer.write(conn.send(h11.Data(data=body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()

    async def _route(self, request: h11.Request, body: bytes) -> tuple[int, bytes]:
        verb = request.method.decode("ascii", "replace")
        path = request.target.decode("ascii", "replace").split("?", 1)[0]
        prefix = self.config.base_path + "/"
        if path.startswith(prefix):
            if verb != "POST":
                return _json_response(405, {"error": "protocol calls are POST"})
            authorization = next(
                (
                    value.decode("latin-1")
                    for name, value in request.headers
                    if name == b"authorization"
                ),
                None,
            )
            envelope = await self._protocol_call(path[len(prefix) :], authorization, body)
            return 200, encode(envelope)
        if path == "/control/stats" and verb == "GET":
            return _json_response(200, self.stats())
        if path == "/control/mode" and verb == "POST":
            return self._control_mode(body)
        if path == "/control/reset" and verb == "POST":
            self.reset()
            return _json_response(200, self.stats())
        return _json_response(404, {"error": f"no {verb} {path}"})

    def _control_mode(self, body: bytes) -> tuple[int, bytes]:
        try:
            wanted = json.loads(body or b"{}")
            if not isinstance(wanted, dict):
                raise ValueError("send a JSON object")
            count = wanted.get("count")
            delay = wanted.get("delay", 1.0)
            if count is not None and not isinstance(count, int):
                raise ValueError("count must be an integer")
            if isinstance(delay, bool) or not isinstance(delay, int | float):
                raise ValueError("delay must be a number")
            mode = self.set_mode(str(wanted.get("mode", "ok")), count=count, delay=float(delay))
        except ValueError as error:
            return _json_response(400, {"error": str(error)})
        return _json_response(200, mode.as_json())

    # -- protocol ----------------------------------------------------------------------------

    async def _protocol_call(
        self, method: str, authorization: str | None, body: bytes
    ) -> dict[str, Any]:
        self.requests += 1
        self._notify()
        try:
            return await self._answer(method, authorization, body)
        except EnvelopeError as error:
            self.rejections[int(error.ret)] += 1
            log.debug("%s refused: %s %s", method, error.ret, error.msg)
            return seal_answer(error.ret, None, self._keys, error.msg)
        finally:
            self._notify()

    async def _answer(self, method: str, authorization: str | None, body: bytes) -> dict[str, Any]:
        mode = self._take_mode()
        if mode.kind == "slow":
            await asyncio.sleep(mode.delay)
        elif mode.kind == "fail":
            raise EnvelopeError(Ret.ERROR, "simulated failure")
        elif mode.kind == "busy":
            raise EnvelopeError(Ret.BUSY, "system busy (simulated)")
        if method == "query_token":
            return seal_answer(Ret.OK, self._query_token(body), self._keys)
        handler = self._handlers.get(method)
        if handler is None:
            raise EnvelopeError(Ret.BAD_DATA, f"unknown method {method!r}")
        token_operator = self._token_operator(authorization)
        request = open_request(body, self._keys_for)
        if token_operator != request.operator_id:
            raise EnvelopeError(Ret.BAD_TOKEN, "token issued to another operator")
        if not isinstance(request.data, dict):
            raise _business("Data is not a JSON object")
        return seal_answer(Ret.OK, handler(request), self._keys)

    def _keys_for(self, operator_id: str) -> Keys | None:
        return self._keys if operator_id == self.config.operator_id else None

    def _token_operator(self, authorization: str | None) -> str:
        scheme, _, value = (authorization or "").partition(" ")
        token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise EnvelopeError(Ret.BAD_TOKEN, "token missing or unknown")
        if self._clock() >= token.expires_at:
            raise EnvelopeError(Ret.BAD_TOKEN, "token expired")
        return token.operator_id

    def _query_token(self, body: bytes) -> dict[str, Any]:
        request = open_request(body, self._keys_for)
        data = request.data
        if not isinstance(data, dict):
            raise _business("Data is not a JSON object")
        operator_id = _text(data, "OperatorID")
        secret = _text(data, "OperatorSecret")
        fail_reason = 0
        if operator_id != request.operator_id or operator_id != self.config.operator_id:
            fail_reason = 1
        elif not hmac.compare_digest(secret.encode(), self.config.operator_secret.encode()):
            fail_reason = 2
        if fail_reason:
            self.token_failures += 1
            return {
                "OperatorID": operator_id,
                "SuccStat": 1,
                "AccessToken": "",
                "TokenAvailableTime": 0,
                "FailReason": fail_reason,
            }
        token = secrets.token_urlsafe(24)
        lifetime = self.config.token_lifetime
        self._tokens[token] = _Token(operator_id, self._clock() + lifetime)
        self.tokens_issued += 1
        return {
            "OperatorID": operator_id,
            "SuccStat": 0,
            "AccessToken": token,
            "TokenAvailableTime": int(lifetime),
            "FailReason": 0,
        }

    def _record(self, method: str, request: Request) -> None:
        record = Record(method, request.operator_id, request.data, datetime.now(UTC), request.seq)
        self.received.append(record)
        if self._on_record is not None:
            self._on_record(record)

    def _station_info(self, request: Request) -> dict[str, Any]:
        info = _object(request.data, "StationInfo")
        _text(info, "StationID", "StationInfo.")
        if not isinstance(info.get("EquipmentInfos"), list):
            raise _business("StationInfo.EquipmentInfos missing or not a list")
        self._record(STATION_INFO, request)
        return {"Status": 0}

    def _station_status(self, request: Request) -> dict[str, Any]:
        info = _object(request.data, "ConnectorStatusInfo")
        _text(info, "ConnectorID", "ConnectorStatusInfo.")
        status = _integer(info, "Status", "ConnectorStatusInfo.")
        if status not in CONNECTOR_STATUSES:
            raise _business(f"ConnectorStatusInfo.Status {status} is not 0-4 or 255")
        self._record(STATION_STATUS, request)
        return {"Status": 0}

    def _operation_stats(self, request: Request) -> dict[str, Any]:
        stats = _object(request.data, "StationStats")
        _text(stats, "StationID", "StationStats.")
        self._record(OPERATION_STATS, request)
        return {"Status": 0}

    def _charge_status(self, request: Request) -> dict[str, Any]:
        """T/CEC 102.4 live charging data of a running session: the keys and numbers checked."""
        data = request.data
        seq = _text(data, "StartChargeSeq")
        if len(seq) != ORDER_SEQ_LENGTH or not seq.startswith(request.operator_id):
            raise _business(f"StartChargeSeq {seq!r} is not OperatorID + number, 27 characters")
        if _integer(data, "StartChargeSeqStat") not in CHARGE_SEQ_STATS:
            raise _business("StartChargeSeqStat is not 1-5")
        _text(data, "ConnectorID")
        if _integer(data, "ConnectorStatus") not in CONNECTOR_STATUSES:
            raise _business("ConnectorStatus is not 0-4 or 255")
        for name in ("CurrentA", "VoltageA", "Soc", "TotalPower"):
            _number(data, name)
        _moment(data, "StartTime")
        _moment(data, "EndTime")
        self._record(CHARGE_STATUS, request)
        return {"StartChargeSeq": seq, "SuccStat": 0, "FailReason": 0}

    def _charge_order(self, request: Request) -> dict[str, Any]:
        check = check_order(request.data, request.operator_id)
        seq = check.start_charge_seq
        result = 1 if check.problems else 0
        if self.confirm_results.get(seq) == 0:
            self.duplicate_orders += 1  # already acknowledged as consistent: keep the first
        else:
            self.orders[seq] = request.data
            self.confirm_results[seq] = result
            if check.problems:
                self.disputed += 1
                self.disputes[seq] = check.problems
            else:
                self.disputes.pop(seq, None)
        self._record(CHARGE_ORDER, request)
        return {"StartChargeSeq": seq, "ConnectorID": check.connector_id, "ConfirmResult": result}
