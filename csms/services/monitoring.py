"""Plan monitoring: progress against the plan in force, the live map, the monthly report.

The store reads the network with its history (commissioning and decommissioning dates,
lockouts, dated EV counts); the pure engine (csms.monitoring.progress) turns it into figures
as of a day; this service picks the plan, the date and the month, and files reports (and
amends a filed one when late data changes its month). A report of a past month counts
stations and piles as they stood at its month's end, not as they stand today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from csms.clock import isoformat, utcnow
from csms.config import Settings
from csms.domain.period import month_bounds, parse_month
from csms.domain.scope import Scope
from csms.errors import InvalidInput
from csms.monitoring import amendments, report
from csms.monitoring import utilization as u
from csms.monitoring.geo import wgs84_to_gcj02
from csms.monitoring.plan import Plan, default_plan_document, plan_from
from csms.monitoring.progress import (
    EvCount,
    Network,
    Pile,
    Place,
    SiteFacts,
    figure_json,
    progress,
)
from csms.services.sharing import AccessService
from csms.services.sharing_report import unit_report
from csms.services.utilization import utilization_table
from csms.store.database import Pool
from csms.store.monitoring import MonitoringStore
from csms.store.registry import RegistryStore
from csms.store.sharing import SharingStore
from csms.store.utilization import UtilizationStore

log = logging.getLogger(__name__)
DEFAULT_PLAN_ID = "shuozhou-2024-2025"


@dataclass(frozen=True, slots=True)
class Progress:
    plan_id: str
    plan: Plan
    on: date
    figures: list[dict[str, Any]]


class MonitoringService:
    def __init__(
        self,
        store: MonitoringStore,
        *,
        time_zone: str,
        active_plan: Any = None,
        extras: Any = None,
    ) -> None:
        """`active_plan`: async () -> (plan_id, document) | None (the registry's plans);
        `extras`: async (since, until) -> dict of utilization, sharing and lockout sections."""
        self._store = store
        self._zone = ZoneInfo(time_zone)
        self._active_plan = active_plan
        self._extras = extras

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def today(self) -> date:
        return utcnow().astimezone(self._zone).date()

    def _local_day(self, moment: datetime | None) -> date | None:
        return None if moment is None else moment.astimezone(self._zone).date()

    async def plan(self) -> tuple[str, Plan]:
        found = await self._active_plan() if self._active_plan is not None else None
        if found is None:
            return DEFAULT_PLAN_ID, plan_from(default_plan_document())
        plan_id, document = found
        return plan_id, plan_from(document)

    async def _lockouts(self) -> dict[str, tuple[tuple[date, date | None], ...]]:
        """Each station's lockouts as local days [locked on, lifted on)."""
        out: dict[str, list[tuple[date, date | None]]] = {}
        for item in await self._store.lockout_periods():
            start = self._local_day(item["locked_at"])
            assert start is not None
            out.setdefault(item["station_id"], []).append(
                (start, self._local_day(item["lifted_at"]))
            )
        return {station: tuple(days) for station, days in out.items()}

    async def network(self, on: date) -> Network:
        """The network with its history up to `on` (EV counts dated later are not known)."""
        sites = {s["site_name"]: s for s in await self._store.sites()}
        lockouts = await self._lockouts()
        piles = [
            Pile(
                station_id=p["id"],
                county=p["county"],
                township=p["township"],
                village=p["village"],
                site_name=p["site_name"],
                site_category=p["category"],
                latitude=p["latitude"],
                longitude=p["longitude"],
                public=p["access_mode"] != "private",
                fast=bool(p["fast"]),
                connectors=int(p["connectors"]),
                commissioned_on=p["commissioned_on"],
                decommissioned_on=self._local_day(p["decommissioned_at"]),
                lockouts=lockouts.get(p["id"], ()),
            )
            for p in await self._store.piles()
        ]
        return Network(
            piles=piles,
            places=[
                Place(
                    kind=p["kind"],
                    name=p["name"],
                    county=p["county"],
                    township=p["township"],
                    latitude=p["latitude"],
                    longitude=p["longitude"],
                    small_car_spaces=p["small_car_spaces"],
                )
                for p in await self._store.places()
            ],
            sites=[
                SiteFacts(
                    site_name=name,
                    category=s["category"],
                    parking_spaces=s["parking_spaces"],  # charging spaces: the engine counts
                )
                for name, s in sites.items()
                if s["category"] is not None
            ],
            ev_counts=[
                EvCount(county=e["county"], as_of=e["as_of"], evs=e["evs"])
                for e in await self._store.ev_counts(on)
            ],
        )

    async def progress(self, on: date | None = None) -> Progress:
        result, _ = await self._progress(on or self.today())
        return result

    async def _progress(self, day: date) -> tuple[Progress, Network]:
        plan_id, plan = await self.plan()
        network = await self.network(day)
        figures = progress(plan, network, day)
        return Progress(plan_id, plan, day, [figure_json(f) for f in figures]), network

    async def _station_counts(self, day: date, end: datetime) -> dict[str, int]:
        """Stations, online and locked: live for the day under way; at the end of `day` for
        a day past (its report counts what stood then, not today's stations)."""
        if day < self.today():
            return await self._store.station_counts_as_of(day, end)
        states = await self._store.station_states()
        return {
            "stations": len(states),
            # connected, whatever its map state (a locked station may be offline too)
            "online": sum(1 for s in states if s["connected"]),
            "locked": sum(1 for s in states if s["locked"]),
        }

    async def map(self, scope: Scope | None = None) -> list[dict[str, Any]]:
        """The stations in service (in `scope`; None: all) with their state for the map."""
        out = []
        for s in await self._store.station_states(scope):
            state = (
                "locked"
                if s["locked"]
                else "offline"
                if not s["connected"]
                else "faulted"
                if s["faulted"]
                else "charging"
                if s["charging"]
                else "available"
            )
            lat, lon = s["latitude"], s["longitude"]
            gcj = None if lat is None or lon is None else list(wgs84_to_gcj02(lat, lon))
            out.append(
                {
                    "id": s["id"],
                    "county": s["county"],
                    "site_name": s["site_name"],
                    "latitude": lat,
                    "longitude": lon,
                    "gcj02": gcj,
                    "state": state,
                    "public": s["access_mode"] != "private",
                }
            )
        return out

    # -- the monthly report ----------------------------------------------------------------

    def check_month(self, year: int, month: int) -> None:
        today = self.today()
        if (year, month) > (today.year, today.month):
            raise InvalidInput(f"{year:04d}-{month:02d} has not begun; no report yet")

    async def month_report(
        self, year: int, month: int, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The report document of a month: figures as of its last day (or today, for the
        month under way), and the month's utilization, sharing and lockouts."""
        self.check_month(year, month)
        since, until = month_bounds(year, month, self._zone)
        last_day = min(until.date() - timedelta(days=1), self.today())
        result, network = await self._progress(last_day)
        figures = [dict(f) for f in result.figures]
        before = {f["key"]: f for f in (previous or {}).get("figures", [])}
        changes = []
        for figure in figures:
            old = before.get(figure["key"])
            if old is None or figure["actual"] is None or old["actual"] is None:
                figure["change"] = None  # new figure, or one whose inputs are missing
                continue
            change = Decimal(figure["actual"]) - Decimal(old["actual"])
            figure["change"] = str(change)
            if change or old["status"] != figure["status"]:
                changes.append(
                    {
                        "key": figure["key"],
                        "title_zh": figure["title_zh"],
                        "scope": figure["scope"],
                        "before": old["actual"],
                        "after": figure["actual"],
                        "change": str(change),
                        "status_before": old["status"],
                        "status_after": figure["status"],
                    }
                )
        extras = await self._extras(since, until) if self._extras is not None else {}
        # Piles as the plan counts them on the report's last day (commissioned by then, not
        # decommissioned or locked out then), like its figures.
        public = [p for p in network.piles if p.public]
        first_day = since.astimezone(self._zone).date()
        new_this_month = sum(
            1
            for p in public
            if p.commissioned_on is not None and first_day <= p.commissioned_on <= last_day
        )
        end_of_day = datetime.combine(last_day + timedelta(days=1), time(), self._zone)
        return {
            "title": f"朔州市充电基础设施建设进展月报 {year:04d}-{month:02d} "
            "Charging infrastructure monthly progress report",
            "plan_id": result.plan_id,
            "plan_name": result.plan.name,
            "time_zone": result.plan.timezone,  # the report's times are read in it
            "month": f"{year:04d}-{month:02d}",
            "as_of": last_day.isoformat(),
            "generated_at": isoformat(utcnow()),
            "figures": figures,
            "by_status": _by_status(figures),
            "changes": changes,
            "status_counts": await self._station_counts(last_day, end_of_day),
            "summary": {
                "public_piles": sum(1 for p in public if p.counts_on(last_day)),
                "new_piles_this_month": new_this_month,
                **extras.get("summary", {}),
            },
            **{k: v for k, v in extras.items() if k != "summary"},
        }


def _by_status(figures: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"met": 0, "on_track": 0, "behind": 0}
    for figure in figures:
        counts[figure["status"]] = counts.get(figure["status"], 0) + 1
    return counts


def render(document: dict[str, Any]) -> tuple[str, str]:
    """(html, csv) of a report document."""
    return report.to_html(document), report.to_csv(document)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


# A month's report is filed on the 2nd at 04:00 local, in time for the 5th (四(三)): the
# rollup's 26-hour catch-up has passed over the month's last day by then, so whatever changes
# the month later is late data, and amends the filed report.
FILE_AFTER = timedelta(hours=28)
SCHEDULE = "schedule"  # who files and amends reports by themselves


class ReportService:
    """Files monthly reports: on request, and by itself once a month is over; amends a filed
    report by itself when its month's figures change later (late data), keeping every
    version."""

    def __init__(self, monitoring: MonitoringService, store: MonitoringStore) -> None:
        self._monitoring = monitoring
        self._store = store

    async def _file(
        self,
        year: int,
        month: int,
        by: str,
        now: datetime,
        current: dict[str, Any] | None,
        *,
        only_if_changed: bool = False,
    ) -> int | None:
        """Generate the month's report and file it as the version after `current`; a version
        after a final one is an amendment when a figure differs. The version filed, or None
        (nothing differed and `only_if_changed`, or another node filed one meanwhile)."""
        last_year, last_month = previous_month(year, month)
        before = await self._store.report(f"{last_year:04d}-{last_month:02d}")
        document = await self._monitoring.month_report(
            year, month, None if before is None else before["document"]
        )
        version = 1 if current is None else int(current["version"]) + 1
        earlier: list[dict[str, Any]] = (
            [] if current is None else current["document"].get("amendments", [])
        )
        changes = None
        if current is not None and current["final"]:
            changes = amendments.changes(current["document"], document)
            if not changes and only_if_changed:
                return None
        if changes:
            earlier = [
                *earlier,
                {"version": version, "amended_at": isoformat(now), "changes": changes},
            ]
        document["amendments"] = earlier
        document["amended_at"] = earlier[-1]["amended_at"] if earlier else None
        html, csv = render(document)
        _, end = month_bounds(year, month, self._monitoring.zone)
        return await self._store.save_report(
            document["month"],
            by,
            document,
            html,
            csv,
            at=now,
            final=now >= end,
            after_version=version - 1,
            changes=changes,
        )

    async def generate(
        self, year: int, month: int, *, by: str, now: datetime | None = None
    ) -> dict[str, Any]:
        """File a new version of a month's report from the data as it stands (the earlier
        versions are kept); the report as filed."""
        name = f"{year:04d}-{month:02d}"
        current = await self._store.report(name)
        await self._file(year, month, by, now or utcnow(), current)
        stored = await self._store.report(name)  # ours, or a version another node filed
        assert stored is not None
        return stored

    async def get_or_generate(self, year: int, month: int, *, by: str) -> dict[str, Any]:
        stored = await self._store.report(f"{year:04d}-{month:02d}")
        if stored is not None:
            return stored
        return await self.generate(year, month, by=by)

    async def file_last_month(self, now: datetime | None = None) -> str | None:
        """File last month's report once it is over and settled (FILE_AFTER), unless a final
        one is filed (one generated while the month ran is replaced); the month it filed."""
        now = now or utcnow()
        zone = self._monitoring.zone
        local = now.astimezone(zone)
        year, month = previous_month(local.year, local.month)
        if now < month_bounds(year, month, zone)[1] + FILE_AFTER:
            return None
        name = f"{year:04d}-{month:02d}"
        current = await self._store.report(name)
        if current is not None and current["final"]:
            return None
        if await self._file(year, month, SCHEDULE, now, current) is None:
            return None
        log.info("filed the monthly report for %s", name)
        return name

    async def amend_stale(self, now: datetime | None = None) -> list[str]:
        """Regenerate every final report whose month's utilization changed since it was
        filed (the rollup marks them), and file an amendment where a figure differs; the
        months amended."""
        now = now or utcnow()
        amended = []
        for name, marks in await self._store.stale_reports():
            current = await self._store.report(name)
            if current is not None and current["final"]:
                year, month = parse_month(name)
                try:
                    filed = await self._file(
                        year, month, SCHEDULE, now, current, only_if_changed=True
                    )
                except Exception:  # the month stays marked: tried again next round
                    log.exception("amending the monthly report for %s failed", name)
                    continue
                if filed is not None:
                    amended.append(name)
                    log.info("amended the monthly report for %s (late data)", name)
            await self._store.clear_stale(name, marks)
        return amended

    async def maintain(self, now: datetime | None = None) -> None:
        """The maintenance round's part: last month's report, and amendments of filed ones."""
        await self.file_last_month(now)
        await self.amend_stale(now)


def build_reports(pool: Pool, settings: Settings) -> tuple[MonitoringService, ReportService]:
    """The monitoring and report services over a pool (the server and the CLI share this)."""
    monitoring_store = MonitoringStore(pool)
    registry = RegistryStore(pool)
    utilization = UtilizationStore(pool, time_zone=settings.time_zone)
    sharing = SharingStore(pool)
    access = AccessService(sharing, time_zone=settings.time_zone)
    zone = ZoneInfo(settings.time_zone)

    async def active_plan() -> tuple[str, dict[str, Any]] | None:
        row = await registry.active_plan()
        return None if row is None else (row["plan_id"], row["document"])

    async def extras(since: datetime, until: datetime) -> dict[str, Any]:
        now = utcnow()
        last = min(until.date() - timedelta(days=1), now.astimezone(zone).date())
        table = await utilization_table(
            utilization, since.date(), last, u.Grouping.COUNTY, u.Granularity.TOTAL, now
        )
        by_county = [
            {
                "scope": row.get("county") or "—",
                "sessions": row["counted_sessions"],
                "all_sessions": row["sessions"],
                "energy_kwh": row["kwh"],
                "time_utilization": row["time_utilization"],
                "energy_utilization": row["energy_utilization"],
                "online_rate": row["online_rate"],
                "fault_rate": row["fault_rate"],
            }
            for row in table["rows"]
        ]
        await access.load_calendar()
        units = []
        for unit in await sharing.units():
            figures = await unit_report(
                sharing, access, unit["unit_id"], since.year, since.month, zone
            )
            units.append(
                {
                    "unit_name": figures["unit_name"],
                    "public_sessions": figures["sessions"]["public"],
                    "public_kwh": figures["public"]["energy_kwh"],
                    "public_revenue": figures["public"]["revenue"],
                    "member_sessions": figures["sessions"]["member"],
                    "public_hours_open": figures["public_hours_open"],
                }
            )
        items = await monitoring_store.lockouts_between(since, until)
        lifted = [x for x in items if x["lifted_at"] is not None and x["lifted_at"] < until]
        return {
            "summary": {
                "sessions": table["totals"]["counted_sessions"],
                "all_sessions": table["totals"]["sessions"],
                "energy_kwh": table["totals"]["kwh"],
            },
            "utilization_by_county": by_county,
            "sharing": units,
            "lockouts": {
                "opened": sum(1 for x in items if x["locked_at"] >= since),
                "lifted": len(lifted),
                "open_at_end": len(items) - len(lifted),
                "items": [
                    {
                        **x,
                        "locked_at": isoformat(x["locked_at"]),
                        "lifted_at": None if x["lifted_at"] is None else isoformat(x["lifted_at"]),
                    }
                    for x in items
                ],
            },
        }

    monitoring = MonitoringService(
        monitoring_store, time_zone=settings.time_zone, active_plan=active_plan, extras=extras
    )
    return monitoring, ReportService(monitoring, monitoring_store)
