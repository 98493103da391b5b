"""Tells a database outage from a bug: which driver errors mean "PostgreSQL is not there now".

Only the store knows asyncpg, so the edges (API, gateway, background loops) ask here whether an
exception is an outage and get `DatabaseUnavailable` (or its cause) back; everything else stays
an error worth a traceback.
"""

from __future__ import annotations

import logging
import traceback

import asyncpg

from csms.errors import DatabaseUnavailable, leaf_exceptions

# SQLSTATEs that mean the server cannot serve us now, whatever the statement was:
# class 08 connection exception; 53300 too_many_connections; 57P01 admin_shutdown,
# 57P02 crash_shutdown, 57P03 cannot_connect_now ("the database system is starting up /
# shutting down"), 57P05 idle_session_timeout. Not 57014 (a cancelled statement is ours).
_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03", "57P05"})
_SQLSTATE_CLASSES = ("08",)

# asyncpg's InterfaceErrors about a connection or pool that is gone (others are our bugs,
# like "another operation is in progress", and keep their traceback).
_GONE = ("connection is closed", "connection was closed", "pool is closing", "pool is closed")


# What a database outage surfaces as at an edge that does not know asyncpg (the API registers
# its handler for these; `cause` then tells an outage from another error of the same type).
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
    ExceptionGroup,
)


def _through_driver(exc: BaseException) -> bool:
    """Raised inside asyncpg (a socket error or a timeout of ours elsewhere is not an outage)."""
    return any("/asyncpg/" in frame.filename for frame in traceback.extract_tb(exc.__traceback__))


def _leaf_cause(exc: BaseException) -> str | None:
    if isinstance(exc, DatabaseUnavailable):
        return exc.cause
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        if state in _SQLSTATES or state.startswith(_SQLSTATE_CLASSES):
            return _describe(exc)
        return None
    if isinstance(exc, asyncpg.InterfaceError):
        return _describe(exc) if any(gone in str(exc) for gone in _GONE) else None
    if isinstance(exc, OSError | TimeoutError) and _through_driver(exc):
        return _describe(exc)
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def cause(exc: BaseException) -> str | None:
    """Why the database is unavailable, when `exc` (every leaf of a group) says it is; None for
    any other error."""
    causes = [_leaf_cause(leaf) for leaf in leaf_exceptions(exc)]
    if not causes or any(c is None for c in causes):
        return None
    return causes[0]


def unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """`exc` as DatabaseUnavailable when it is an outage, else None."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    found = cause(exc)
    return None if found is None else DatabaseUnavailable(found)


class _QuietPoolFloor(logging.Filter):
    """asyncpg logs a traceback each time it fails to refill a pool to its minimum size (every
    1, 2, 4 ... 60 s per pool); during an outage that is noise: the refused work says it, once
    per interval. Other pool warnings pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Failed to restore the pool connection floor"):
            return True
        exc = record.exc_info[1] if record.exc_info else None
        return exc is None or cause(exc) is None


def quiet_pool_floor() -> None:
    """Install the filter on asyncpg's pool logger (once per process)."""
    pool_log = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, _QuietPoolFloor) for f in pool_log.filters):
        pool_log.addFilter(_QuietPoolFloor())
