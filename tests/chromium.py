"""Headless Chromium for the browser test and the screenshots: find it, dump a DOM, drive a page."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

NAMES = ("chromium", "chromium-browser", "google-chrome")
MISSING = (
    "Chromium is needed for the dashboard browser test and is not installed: "
    "`apt-get install -y chromium` (Debian; .ci/run installs it before `make test`), "
    "or set PATH so that `chromium` is found"
)
# --no-sandbox: CI runs as root in a container; --disable-dev-shm-usage: a small /dev/shm there
BASE_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--no-default-browser-check", "--hide-scrollbars")  # fmt: skip
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})  # fmt: skip


def find_chromium() -> str | None:
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def snapshot_command(binary: str, profile: Path, url: str, *extra: str) -> list[str]:
    """Load `url`, run its scripts for 10 s of virtual time (network fetches pause the clock, so
    every answer is in), then do what `extra` asks (--dump-dom, --screenshot=...)."""
    return [binary, *BASE_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
            *extra, url]  # fmt: skip


async def dump_dom(url: str, binary: str, timeout: float = 90) -> str:
    """The page's DOM as serialized HTML after its scripts ran (a fresh profile each time)."""
    async with _profile() as profile:
        process = await asyncio.create_subprocess_exec(
            *snapshot_command(binary, Path(profile), url, "--dump-dom"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    if process.returncode != 0 or not out.strip():
        tail = err.decode(errors="replace")[-2000:]
        raise AssertionError(f"chromium failed (exit {process.returncode}): {tail}")
    return out.decode()


class Dom(HTMLParser):
    """The elements of a dumped page that carry a data-testid: attributes and text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: dict[str, dict[str, str]] = {}  # data-testid -> attributes
        self.texts: dict[str, list[str]] = {}
        self.root: dict[str, str] = {}  # <html> attributes
        self.body: dict[str, str] = {}  # <body> attributes
        self._open: list[str | None] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.root = values
        elif tag == "body":
            self.body = values
        test_id = values.get("data-testid")
        if test_id is not None:
            self.attrs[test_id] = values
            self.texts[test_id] = []
        if tag not in VOID:
            self._open.append(test_id)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for test_id in self._open:
            if test_id is not None:
                self.texts[test_id].append(data)

    def text(self, test_id: str) -> str:
        assert test_id in self.texts, f"no element with data-testid={test_id!r}"
        return " ".join("".join(self.texts[test_id]).split())

    def attr(self, test_id: str, name: str) -> str:
        assert test_id in self.attrs, f"no element with data-testid={test_id!r}"
        return self.attrs[test_id][name]

    def ids(self, prefix: str) -> list[str]:
        return [test_id for test_id in self.attrs if test_id.startswith(prefix)]


class Page:
    """One page of a Chromium driven over the DevTools protocol (JSON over a WebSocket)."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """One DevTools protocol command; its result (events meanwhile are skipped)."""
        call_id = next(self._ids)
        await self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            reply = json.loads(await asyncio.wait_for(self._ws.recv(), 30))
            if reply.get("id") == call_id:
                break
        assert "error" not in reply, reply
        return reply["result"]

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable)."""
        result = await self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    async def screenshot(self, width: int, height: int) -> bytes:
        """The page as a PNG of width x height CSS pixels."""
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        shot = await self.call("Page.captureScreenshot", {"format": "png"})
        return base64.b64decode(shot["data"])

    async def wait_for(self, expression: str, expected: Any, timeout: float = 20) -> Any:
        """Poll an expression until it equals `expected` (an exception, e.g. while the page is
        still loading, counts as not yet); fail with its last value."""
        deadline = asyncio.get_running_loop().time() + timeout
        value: Any = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                value = await self.evaluate(expression)
            except AssertionError as exc:
                value = exc
            if value == expected:
                return value
            await asyncio.sleep(0.2)
        raise AssertionError(f"{expression} is {value!r}, not {expected!r}, after {timeout} s")


@contextlib.asynccontextmanager
async def live_page(url: str, binary: str) -> AsyncIterator[Page]:
    """Chromium showing `url` in real time (no virtual clock: live feeds stay open)."""
    async with _profile() as profile:
        process = await asyncio.create_subprocess_exec(
            binary, *BASE_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
            "--remote-allow-origins=*", url,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            port = await _devtools_port(Path(profile), process)
            async with connect(await _page_socket(port), max_size=None) as ws:
                yield Page(ws)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()


@contextlib.asynccontextmanager
async def _profile() -> AsyncIterator[str]:
    """A fresh browser profile, removed once Chromium's helper processes let go of it."""
    folder = tempfile.mkdtemp(prefix="csms-chromium-")
    try:
        yield folder
    finally:
        for _ in range(50):
            if _removed(folder):
                break
            await asyncio.sleep(0.1)


def _removed(folder: str) -> bool:
    shutil.rmtree(folder, ignore_errors=True)
    return not Path(folder).exists()


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """Chromium writes the port it chose to <profile>/DevToolsActivePort."""
    marker = profile / "DevToolsActivePort"
    for _ in range(300):
        if process.returncode is not None:
            raise AssertionError(f"chromium exited with {process.returncode}")
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int(marker.read_text().splitlines()[0])
        await asyncio.sleep(0.1)
    raise AssertionError("chromium did not open its DevTools port within 30 s")


async def _page_socket(port: int) -> str:
    """The DevTools WebSocket of the browser's page (it appears shortly after start)."""
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(100):
            targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
            await asyncio.sleep(0.1)
    raise AssertionError("chromium shows no page")
