"""Why `csms serve` could not start, in one line an operator can act on (not a traceback)."""

from __future__ import annotations

import errno
import re
import traceback

from csms.errors import CsmsError, leaf_exceptions

# what a PostgreSQL URL must not show in a log line: its password
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")

# how asyncio and uvloop name the address in a bind error: ('127.0.0.1', 8000)
_ADDRESS = re.compile(r"\('([^']*)', (\d+)")

_CONNECT_ERRNOS = {
    errno.ECONNREFUSED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.ENOENT,  # a Unix socket that is not there
}


def redact(url: str) -> str:
    return _PASSWORD.sub(r"\1***@", url)


def _from_database_driver(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return any("/asyncpg/" in frame.filename for frame in frames)


def explain(exc: BaseException, database: str) -> str | None:
    """The cause of a failed start, or None when it is not one we know (then the traceback
    is the better report). `database` names the PostgreSQL server tried."""
    for leaf in leaf_exceptions(exc):
        if isinstance(leaf, CsmsError):  # ours already says it in one line (e.g. a TLS file)
            return str(leaf)
        if isinstance(leaf, OSError) and leaf.errno == errno.EADDRINUSE:
            address = _ADDRESS.search(str(leaf))
            where = f" on {address[1]}:{address[2]}" if address else ""
            return (
                f"cannot listen{where}: the address is already in use (another process holds "
                "the port; stop it or choose another with --http-port / --ocpp-port)"
            )
    for leaf in leaf_exceptions(exc):
        text = str(leaf) or type(leaf).__name__
        if isinstance(leaf, OSError) and (
            leaf.errno in _CONNECT_ERRNOS or _from_database_driver(leaf)
        ):
            return f"cannot connect to PostgreSQL at {redact(database)}: {text}"
        if isinstance(leaf, TimeoutError) and _from_database_driver(leaf):
            return f"cannot connect to PostgreSQL at {redact(database)}: timed out"
        if type(leaf).__module__.startswith("asyncpg"):
            return f"PostgreSQL at {redact(database)} refused the CSMS: {text}"
    return None
