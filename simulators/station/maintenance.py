"""Firmware updates and diagnostics/log uploads, as a charger walks through them.

1.6 §5.19 UpdateFirmware / §4.5 FirmwareStatusNotification and §5.9 GetDiagnostics / §4.4;
2.0.1 L01 (firmware) and N01 (GetLog). The station waits for the retrieve date, "downloads",
waits until no transaction runs before installing (2.0.1 L01: installation must not interrupt a
transaction), reboots with the new version and reports Installed after the boot. Nothing is
actually fetched or uploaded: a location that is not a usable URL fails the way a charger's
download or upload would; any other location succeeds after `step_seconds` per step.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from simulators import timestamps
from simulators.station.session import StopCause

if TYPE_CHECKING:
    from simulators.station.station import Station

TRANSFER_SCHEMES = ("ftp", "ftps", "http", "https", "sftp")
_VERSION_IN_NAME = re.compile(r"(\d+(?:\.\d+){1,3})")

Notify = Callable[[str], None]  # sends one status notification


@dataclass(frozen=True, slots=True)
class FirmwareSteps:
    """The status sequence of one version."""

    before_install: tuple[str, ...]  # e.g. Downloading, Downloaded
    installing: tuple[str, ...]  # e.g. Installing (2.0.1: Installing, InstallRebooting)
    installed: str = "Installed"  # reported after the reboot
    download_failed: str = "DownloadFailed"


def usable_location(location: str) -> bool:
    parts = urlsplit(location)
    return parts.scheme.lower() in TRANSFER_SCHEMES and bool(parts.netloc)


def next_version(current: str, location: str) -> str:
    """The version the image at `location` carries: from its name, else the current one bumped."""
    found = _VERSION_IN_NAME.findall(urlsplit(location).path.rsplit("/", 1)[-1])
    if found:
        return str(found[-1])
    parts = current.split(".")
    if parts and parts[-1].isdigit():
        parts[-1] = str(int(parts[-1]) + 1)
        return ".".join(parts)
    return f"{current}.1"


async def update_firmware(
    station: Station,
    location: str,
    retrieve_at: datetime,
    steps: FirmwareSteps,
    notify: Notify,
) -> None:
    delay = (retrieve_at - timestamps.utcnow()).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)
    pause = station.config.step_seconds

    def report(status: str) -> None:
        station.firmware_status = status
        notify(status)

    if not usable_location(location):
        report(steps.download_failed)
        return
    for status in steps.before_install:
        report(status)
        await asyncio.sleep(pause)
    await station.wait_idle()
    for status in steps.installing:
        report(status)
        await asyncio.sleep(pause)
    station.firmware_version = next_version(station.firmware_version, location)

    async def installed() -> None:
        report(steps.installed)
        station.firmware_status = "Idle"
        station.firmware_request_id = None

    station.after_boot.append(installed)
    await station.reboot("FirmwareUpdate", StopCause.REBOOT)


async def upload(
    station: Station, location: str, statuses: tuple[str, str, str], notify: Notify
) -> None:
    """Uploading -> Uploaded (or the failure status): `statuses` = (uploading, done, failed)."""
    uploading, done, failed = statuses

    def report(status: str) -> None:
        station.upload_status = status
        notify(status)

    if not usable_location(location):
        report(failed)
    else:
        report(uploading)
        await asyncio.sleep(station.config.step_seconds)
        report(done)
    station.upload_status = "Idle"
    station.upload_request_id = None


def file_name(station_id: str, kind: str, at: datetime) -> str:
    """What the uploaded file is called (the CSMS shows it to the operator)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", station_id)
    return f"{safe}-{kind}-{at.strftime('%Y%m%dT%H%M%SZ')}.log"
