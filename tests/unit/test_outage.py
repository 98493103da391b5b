"""A database outage is said once per interval and once when over; driver errors are classified."""

from __future__ import annotations

import asyncio
import logging
import socket

import asyncpg
import pytest

from csms import metrics
from csms.errors import DatabaseUnavailable
from csms.outage import OutageLog
from csms.store import outage as store_outage


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _outage(clock: FakeClock, interval: float = 10.0) -> OutageLog:
    def classify(exc: BaseException) -> str | None:
        return str(exc) if isinstance(exc, ConnectionError) else None

    return OutageLog(classify, interval=interval, clock=clock)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "csms.outage"]


def test_one_line_per_interval_then_one_when_back(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    outage = _outage(clock)
    caplog.set_level(logging.INFO, logger="csms.outage")
    assert not outage.down
    for _ in range(50):  # a burst: one line
        outage.refused("api", "connection refused")
    assert len(_lines(caplog)) == 1
    assert _lines(caplog)[0].startswith("database unavailable: connection refused; answering 503")
    assert outage.down
    clock.now += 9.0  # still inside the interval
    outage.refused("ocpp", "connection refused")
    assert len(_lines(caplog)) == 1
    clock.now += 1.0  # 10 s after the first line
    outage.refused("api", "connection refused")
    lines = _lines(caplog)
    assert len(lines) == 2
    # 49 after the first line, the ocpp one, and this one
    assert lines[1] == (
        "database unavailable: connection refused; answering 503 "
        "(51 more in the last 10 s: api 50, ocpp 1)"
    )
    clock.now += 2.5
    outage.available()
    lines = _lines(caplog)
    assert len(lines) == 3
    assert lines[2] == (
        "database available again after 12.5 s (52 refused during the outage: api 51, ocpp 1)"
    )
    assert not outage.down
    outage.available()  # nothing more to say
    assert len(_lines(caplog)) == 3


def test_a_new_outage_is_said_at_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    outage = _outage(clock)
    caplog.set_level(logging.INFO, logger="csms.outage")
    outage.refused("api", "first")
    outage.available()
    clock.now += 0.5  # well inside the interval of the last line: a new outage is news
    outage.refused("handshake", "second")
    lines = _lines(caplog)
    assert len(lines) == 3
    assert lines[2].startswith("database unavailable: second;")
    assert "first refused: handshake" in lines[2]


def test_absorb_counts_outages_only(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    outage = _outage(clock)
    before = metrics.DATABASE_UNAVAILABLE.labels("ocpp")._value.get()
    assert outage.absorb(ValueError("a bug"), "ocpp") is None
    assert not outage.down
    assert outage.absorb(ConnectionResetError("reset"), "ocpp") == "reset"
    assert outage.down
    assert metrics.DATABASE_UNAVAILABLE.labels("ocpp")._value.get() == before + 1


def test_failed_keeps_the_traceback_of_other_errors(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    outage = _outage(clock)
    other = logging.getLogger("test.loop")
    caplog.set_level(logging.INFO)
    try:
        raise KeyError("bug")
    except KeyError as exc:
        outage.failed(exc, other, "round %d failed", 3)
    bug = [r for r in caplog.records if r.name == "test.loop"]
    assert [r.getMessage() for r in bug] == ["round 3 failed"]
    assert bug[0].exc_info is not None
    for _ in range(5):
        outage.failed(ConnectionRefusedError("refused"), other, "round failed")
    assert len([r for r in caplog.records if r.name == "test.loop"]) == 1
    assert len(_lines(caplog)) == 1


# -- which driver errors are an outage -------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.ConnectionFailureError("connection failure"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InterfaceError("pool is closing"),
        DatabaseUnavailable("already named"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_outages(exc: BaseException) -> None:
    found = store_outage.unavailable(exc)
    assert found is not None
    assert found.cause
    assert "try again later" in str(found)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        ConnectionRefusedError("not raised by the driver"),
        TimeoutError(),
        ValueError("a bug"),
    ],
    ids=lambda e: f"{type(e).__name__}:{e}",
)
def test_not_outages(exc: BaseException) -> None:
    assert store_outage.cause(exc) is None


def test_a_group_is_an_outage_only_when_every_leaf_is() -> None:
    gone = asyncpg.exceptions.ConnectionDoesNotExistError("gone")
    assert store_outage.cause(ExceptionGroup("all", [gone, gone])) is not None
    assert store_outage.cause(ExceptionGroup("mixed", [gone, ValueError("bug")])) is None


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_refused_connection_through_the_driver_is_an_outage() -> None:
    async def connect() -> None:
        await asyncpg.connect(f"postgresql://u:p@127.0.0.1:{_closed_port()}/db", timeout=2)

    with pytest.raises(OSError) as caught:
        asyncio.run(connect())
    found = store_outage.cause(caught.value)
    assert found is not None and "Connect" in found
