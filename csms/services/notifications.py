"""What 2.0.1 stations notify beyond sessions: multi-part reports assembled per request, the
monitors and display messages they list, EV charging needs and schedules, firmware publication.

Reports are assembled per requestId; the command that asked reads as complete once the part
with tbc = false is in. Commands that change monitors or display messages update what the
CSMS knows as soon as the station accepts them (N04, N06, O01, O05).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.clock import utcnow
from csms.domain.reports import (
    AnswerFacts,
    DisplayMessage,
    EvChargingNeeds,
    Monitor,
    ReportKind,
    ReportPart,
    assemble,
    report_state,
    seq_gaps,
)
from csms.domain.station import int32
from csms.errors import NotFound
from csms.store.database import Pool
from csms.store.device_model import DeviceModelStore
from csms.store.ev_charging import EvChargingStore
from csms.store.events import EventStore
from csms.store.firmware_publications import FirmwarePublicationStore
from csms.store.reports import ReportStore

Payload = dict[str, Any]


def _summary(row: dict[str, Any], seq_nos: list[int] | None = None) -> dict[str, Any]:
    completed = row["completed_at"] is not None
    summary = {**row, "state": report_state(row["answer"], completed)}
    if seq_nos is not None:
        final = max(seq_nos) if completed and seq_nos else None
        summary["missing_seq_nos"], summary["missing_count"] = seq_gaps(seq_nos, final)
    return summary


class NotificationService:
    def __init__(
        self,
        reports: ReportStore,
        events: EventStore,
        ev: EvChargingStore,
        publications: FirmwarePublicationStore,
        device_model: DeviceModelStore,
    ) -> None:
        self._reports = reports
        self._events = events
        self._ev = ev
        self._publications = publications
        self._device_model = device_model

    # -- from stations ----------------------------------------------------------------------

    async def report_part(
        self,
        station_id: str,
        action: str,
        part: ReportPart,
        *,
        monitors: Sequence[Monitor] = (),
        messages: Sequence[DisplayMessage] = (),
        logged: bool = False,
    ) -> bool:
        """Keep one part (verbatim in the event log unless `logged` already); False: a replay."""
        at = utcnow()
        if not logged:
            await self._events.append(station_id, action, part.payload, at)
        return await self._reports.add_part(
            station_id, part, at, monitors=monitors, messages=messages
        )

    async def ev_charging_needs(self, station_id: str, needs: EvChargingNeeds, p: Payload) -> None:
        at = utcnow()
        await self._events.append(station_id, "NotifyEVChargingNeeds", p, at)
        await self._ev.add_needs(station_id, needs, at)

    async def ev_charging_schedule(
        self, station_id: str, evse_id: int, time_base: datetime, schedule: Payload, p: Payload
    ) -> None:
        at = utcnow()
        await self._events.append(station_id, "NotifyEVChargingSchedule", p, at)
        await self._ev.add_schedule(station_id, evse_id, time_base, schedule, at)

    async def firmware_published(self, station_id: str, p: Payload) -> None:
        """PublishFirmwareStatusNotification (L03): the latest status per request."""
        at = utcnow()
        await self._events.append(station_id, "PublishFirmwareStatusNotification", p, at)
        request_id = int32("requestId", p.get("requestId"))
        await self._publications.put(station_id, request_id, p["status"], p.get("location", []), at)

    # -- from commands ----------------------------------------------------------------------

    async def command_answered(
        self, station_id: str, command_id: int, requested_by: str, facts: AnswerFacts
    ) -> None:
        """Keep what a station's answer to a command told the CSMS."""
        at = utcnow()
        if facts.report is not None:
            kind, request_id, answer = facts.report
            await self._reports.requested(
                station_id,
                kind,
                request_id,
                command_id=command_id,
                requested_by=requested_by,
                answer=answer,
                at=at,
            )
        if facts.monitors_set:
            await self._reports.put_monitors(station_id, facts.monitors_set, at)
        if facts.monitors_cleared:
            await self._reports.delete_monitors(station_id, facts.monitors_cleared)
        if facts.messages_shown:
            await self._reports.put_messages(station_id, facts.messages_shown, at)
        if facts.message_cleared is not None:
            await self._reports.delete_message(station_id, facts.message_cleared)

    # -- reads ------------------------------------------------------------------------------

    async def reports(
        self, station_id: str, kind: ReportKind | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        return [_summary(r) for r in await self._reports.reports(station_id, kind, limit, offset)]

    async def report(self, station_id: str, kind: ReportKind, request_id: int) -> dict[str, Any]:
        """One request with its parts assembled in seqNo order."""
        row = await self._reports.report(station_id, kind, request_id)
        if row is None:
            raise NotFound(f"station {station_id} has no {kind.value} report {request_id}")
        parts = row.pop("part_rows")
        summary = _summary(row, [p["seq_no"] for p in parts])
        summary["content"] = assemble(kind, [p["payload"] for p in parts])
        summary["part_list"] = [
            {k: p[k] for k in ("seq_no", "tbc", "generated_at", "received_at")} for p in parts
        ]
        return summary

    async def monitors(self, station_id: str) -> list[dict[str, Any]]:
        return await self._reports.monitors(station_id)

    async def display_messages(self, station_id: str) -> list[dict[str, Any]]:
        return await self._reports.display_messages(station_id)

    async def ev_charging(self, station_id: str) -> list[dict[str, Any]]:
        return await self._ev.latest(station_id)

    async def firmware_publications(self, station_id: str) -> list[dict[str, Any]]:
        return await self._publications.all(station_id)

    async def device_model(
        self,
        station_id: str,
        *,
        component: str | None,
        variable: str | None,
        evse_id: int | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        return await self._device_model.variables(
            station_id,
            component=component,
            variable=variable,
            evse_id=evse_id,
            limit=limit,
            offset=offset,
        )


def build_notifications(pool: Pool) -> NotificationService:
    """The notification service over a pool (bootstrap wires it into every connection)."""
    return NotificationService(
        ReportStore(pool),
        EventStore(pool),
        EvChargingStore(pool),
        FirmwarePublicationStore(pool),
        DeviceModelStore(pool),
    )
