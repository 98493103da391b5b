"""An embedded PostgreSQL (`pgserver`) under a data directory, reused across restarts."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from pathlib import Path
from typing import Any

import psutil

from csms.errors import NoDatabase

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Starts (or joins) the PostgreSQL whose data lives in `data_dir/pgdata`.

    The server stops when the last process that started it exits (pgserver counts handles), so a
    second `csms serve` on the same data directory shares it, and so does a command run while it
    serves. `create=False` is for those commands: they join or start an existing cluster and raise
    `NoDatabase` rather than initialise an empty one (which would take a mistyped folder for a
    new deployment and write into it).
    """

    def __init__(self, data_dir: Path, *, create: bool = True) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self.create = create
        self._server: Any = None

    def exists(self) -> bool:
        """Whether a cluster was initialised here (initdb writes PG_VERSION)."""
        return (self.pgdata / "PG_VERSION").is_file()

    async def start(self) -> str:
        """Start or join the server and return its connection URL."""
        return await asyncio.to_thread(self._start_sync)

    def _start_sync(self) -> str:
        if not self.create and not self.exists():
            raise NoDatabase(f"no CSMS database at {self.pgdata}")
        # platformdirs warns that XDG_RUNTIME_DIR is unset (normal for services); pgserver
        # then keeps its lock under /tmp, which is what we want.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver  # imported here: it is slow to import and only needed when embedded

        self.pgdata.mkdir(parents=True, exist_ok=True)
        forget_dead_handles(self.pgdata)
        self._server = pgserver.get_server(  # type: ignore[attr-defined]
            self.pgdata, cleanup_mode="stop"
        )
        uri: str = self._server.get_uri()
        log.info("embedded PostgreSQL at %s", self.pgdata)
        return uri

    def stop(self) -> None:
        """Release this process's handle; the server stops when no process holds one."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the handles of processes that died without releasing them (`kill -9`), and return
    their pids. pgserver stops PostgreSQL when its last handle goes; a dead pid left in the list
    would keep it running after every clean stop from then on."""
    path = pgdata / ".handle_pids.json"
    try:
        listed = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        listed = None  # unreadable: no live process can be told apart, so none is kept
    pids = listed if isinstance(listed, list) else []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    dead = [pid for pid in pids if pid not in alive]
    if dead or alive != listed:
        path.write_text(json.dumps(alive))
        log.warning(
            "embedded PostgreSQL: forgot the handles of processes that ended without releasing "
            "them: %s",
            ", ".join(map(str, dead)) or "the list was unreadable",
        )
    return dead
