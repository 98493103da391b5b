"""Screenshots of the dashboard and of a monthly report for the README; run by hand, not a test.

Against a running CSMS with data (for example after `csms demo city`), with a viewer key:

    CSMS_KEY=<viewer key> .venv/bin/python -m tests.screenshots \
        --url http://127.0.0.1:8000 --month 2026-10 --out docs

writes docs/dashboard.png (Chinese), docs/dashboard-en.png (English) and
docs/monthly-report.png; with `--login L` (password in $CSMS_PASSWORD) also the operator
console signed in as that account: docs/console.png (the stations),
docs/console-station.png (`--station`, else the first station listed), and the map, tariffs,
billing and sharing pages (docs/console-map.png, -tariffs, -billing, -sharing). The dashboard gets
the key in its address fragment (#key=..., never sent to the server, but visible in the
process list while Chromium runs: use a throwaway viewer key); the report is opened as the
dashboard opens it, by a signed link asked for with the key
(GET /api/v1/reports/monthly/{month}/link), which Chromium loads with no key.
Chinese text needs a CJK font (`apt-get install fonts-noto-cjk`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import httpx

from tests.chromium import MISSING, find_chromium, live_page, snapshot_command
from tests.integration.test_console_browser import click, fill, node, shown


def last_month(today: date) -> str:
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


def screenshot(binary: str, url: str, out: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="csms-chromium-") as profile:
        command = snapshot_command(
            binary, Path(profile), url, f"--screenshot={out}", f"--window-size={width},{height}"
        )
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    if done.returncode != 0 or not out.exists():
        tail = done.stderr.decode(errors="replace")[-1500:]
        raise SystemExit(f"chromium failed on {url.split('#')[0]}: {tail}")
    print(f"wrote {out}")


async def console_shots(
    binary: str, base: str, login: str, password: str, station: str | None
) -> dict[str, bytes]:
    """The console signed in as `login`: its station list and one station's page."""
    shots: dict[str, bytes] = {}
    async with live_page(f"{base}/console", binary) as page:
        await page.wait_for("document.body?.dataset.state", "signed-out")
        await fill(page, "sign-in-login", login)
        await fill(page, "sign-in-password", password)
        await click(page, "sign-in-submit")
        await click(page, "nav-stations")
        await shown(page, "stations")
        shots["console.png"] = await page.screenshot(1400, 1000)
        if station is None:
            first = "document.querySelector('[data-testid^=\"station-link-\"]')"
            station = await page.evaluate(f"{first}?.dataset.testid.slice(13) ?? null")
        if station is not None:
            await page.evaluate(f"location.hash = '#/stations/' + {station!r}")
            await shown(page, "station")
            await page.wait_for(f"{node('reset-soft')} !== null", True)
            shots["console-station.png"] = await page.screenshot(1400, 1000)
        for route, name in (("map", "map"), ("tariffs", "tariffs"), ("billing", "billing")):
            await page.evaluate(f"location.hash = '#/{route}'")
            await shown(page, name)
            shots[f"console-{route}.png"] = await page.screenshot(1400, 1000)
        # sharing: the first unit's page (its schedules as week calendars), else the list
        await page.evaluate("location.hash = '#/sharing'")
        await shown(page, "sharing")
        unit = await page.evaluate(
            "document.querySelector('[data-testid^=\"sh-unit-link-\"]')"
            "?.dataset.testid.slice(13) ?? null"
        )
        if unit is not None:
            await page.evaluate(f"location.hash = '#/sharing/' + {unit!r}")
            await shown(page, "sharing")
            await page.evaluate(f"{node('sh-schedules')}?.scrollIntoView()")  # the calendars
        shots["console-sharing.png"] = await page.screenshot(1400, 1000)
    return shots


def has_cjk_font() -> bool:
    if shutil.which("fc-list") is None:
        return True  # cannot tell
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, check=False)
    return bool(found.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the CSMS's HTTP address")
    parser.add_argument("--key", default=os.environ.get("CSMS_KEY"), help="viewer key ($CSMS_KEY)")
    parser.add_argument("--month", default=last_month(date.today()), help="YYYY-MM of the report")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder of the images")
    parser.add_argument("--login", help="also the console, signed in as this account")
    parser.add_argument("--station", help="the console's station page of this station")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("a viewer key is needed: --key or CSMS_KEY")
    binary = find_chromium()
    if binary is None:
        raise SystemExit(MISSING)
    if not has_cjk_font():
        print("warning: no CJK font installed; Chinese text will show as boxes", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.url.rstrip("/")
    size = (args.width, args.height)

    # live=0: no event feed, so the virtual clock runs out and the picture is taken
    for lang, name in (("zh", "dashboard.png"), ("en", "dashboard-en.png")):
        url = f"{base}/dashboard?live=0&lang={lang}#key={args.key}"
        screenshot(binary, url, (args.out / name).resolve(), *size)

    link = httpx.get(
        f"{base}/api/v1/reports/monthly/{args.month}/link",
        headers={"Authorization": f"Bearer {args.key}"},
        timeout=120,
    )
    if link.status_code != 200:
        raise SystemExit(f"the monthly report of {args.month}: HTTP {link.status_code} {link.text}")
    url = base + link.json()["url"]
    screenshot(binary, url, (args.out / "monthly-report.png").resolve(), *size)
    if args.login:
        password = os.environ.get("CSMS_PASSWORD", "")
        shots = asyncio.run(console_shots(binary, base, args.login, password, args.station))
        for name, png in shots.items():
            (args.out / name).write_bytes(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
