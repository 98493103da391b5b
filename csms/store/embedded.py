"""An embedded PostgreSQL (the `pgserver` package) under a data directory, reused across restarts."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Starts (or joins) the PostgreSQL whose data lives in `data_dir/pgdata`.

    The server stops when the last process that started it exits (pgserver counts handles), so a
    second `csms serve` on the same data directory shares it.
    """

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self._server: Any = None

    async def start(self) -> str:
        """Start or join the server and return its connection URL."""
        return await asyncio.to_thread(self._start_sync)

    def _start_sync(self) -> str:
        import pgserver

        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        log.info("embedded PostgreSQL at %s", self.pgdata)
        return uri

    def stop(self) -> None:
        """Release this process's handle; the server stops when no process holds one."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
