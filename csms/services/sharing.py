"""Sharing internal piles with the public: who may start where and when, and its enforcement.

`AccessService` answers at every place a session can start (Authorize, 1.6 StartTransaction,
2.0.1 TransactionEvent, remote start) and logs each refusal. `SharingEnforcer` runs on every
node for the stations connected there: it configures non-public stations so their local cache
and list cannot let the public in, stops public sessions that started outside a window anyway
(offline starts, cached tokens), and applies each unit's window-close policy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from csms import metrics
from csms.clock import utcnow
from csms.domain.token import AuthDecision
from csms.domain.version import OcppVersion
from csms.errors import CsmsError
from csms.outage import OutageLog
from csms.services.commands import CommandService
from csms.services.events import EventBus, booted_here
from csms.services.recent import RecentSet
from csms.sharing.access import AccessDecision, AccessMode, Membership, PriceClass, decide
from csms.sharing.calendar import HolidayCalendar, calendar_from, default_calendar
from csms.sharing.codec import schedule_from
from csms.sharing.schedule import Openness, openness
from csms.store.outage import cause as outage_cause
from csms.store.sharing import SharingStore

log = logging.getLogger(__name__)

SYSTEM = "sharing"  # requested_by of the commands the enforcer sends
COMMAND_TIMEOUT = 30.0
BOOT_SETTLE = 1.0  # seconds between a station's boot and its sharing configuration
SPECIAL_MAX_AGE = 5.0  # seconds the set of stations the sharing rules concern may be old
RESTRICTED_MAX_AGE = 5.0  # seconds the set of non-public stations may be old
STOP_RETRY = timedelta(minutes=5)  # a stop not obeyed by then is asked for again
MAX_CONCURRENT = 64  # sessions handled at once per node
# Warn this many days before the holiday calendar runs out (the next notice is out by then).
CALENDAR_NOTICE_DAYS = 31
DEFAULT_CLOSE_MESSAGE = "Public opening hours have ended; charging will stop soon."


@dataclass(frozen=True, slots=True)
class StationAccess:
    """A station's answer to "may the public charge here now?"."""

    station_id: str
    access_mode: AccessMode
    unit_id: str | None
    unit_name: str | None
    public_open: bool
    next_change: datetime | None
    schedule_id: int | None
    reason: str


class AccessService:
    def __init__(self, store: SharingStore, *, time_zone: str = "Asia/Shanghai") -> None:
        self._store = store
        self._zone = ZoneInfo(time_zone)  # picks which schedule row is in force on a date
        # Stations the rules concern, a few seconds fresh: every other start needs no query.
        self._special = RecentSet(store.special_stations, max_age=SPECIAL_MAX_AGE)
        self.calendar: HolidayCalendar = default_calendar()
        self._warned_on: date | None = None

    def touched(self, station_id: str) -> None:
        """Its access mode or owner changed on this node: judge it fully from now on."""
        self._special.add(station_id)

    async def load_calendar(self) -> None:
        """Use the calendar stored through the API, if any (else the shipped one)."""
        document = await self._store.calendar_document()
        self.calendar = default_calendar() if document is None else calendar_from(document)
        self.check_coverage()

    async def replace_calendar(self, document: dict[str, Any], by: str) -> HolidayCalendar:
        calendar = calendar_from(document)  # ValueError before anything is stored
        await self._store.put_calendar(calendar.as_json(), by)
        self.calendar = calendar
        self._warned_on = None  # judged afresh
        self.check_coverage()
        return calendar

    def check_coverage(self) -> None:
        """Keep csms_holiday_calendar_days_left current and say, once a day, when the calendar
        does not cover today or runs out within CALENDAR_NOTICE_DAYS. Past its last day every
        holiday is a plain weekday: shared piles close on Spring Festival and holiday tariffs
        price it as a workday, so the operator hears of it while there is time to load the
        next notice (the State Council publishes it in November or December)."""
        today = utcnow().astimezone(self._zone).date()
        left = self.calendar.days_left(today)
        metrics.HOLIDAY_CALENDAR_DAYS_LEFT.set(left)
        if left > CALENDAR_NOTICE_DAYS or today == self._warned_on:
            return
        self._warned_on = today
        if left == 0:
            log.warning(
                "the holiday calendar (%s) does not cover %d: holidays are unknown, so shared "
                "piles and holiday tariffs treat every day as a plain weekday; "
                "PUT /api/v1/calendar with this year's State Council notice",
                self.calendar.name,
                today.year,
            )
        else:
            log.warning(
                "the holiday calendar (%s) ends on %s, in %d days: after it holidays are "
                "unknown and every day is a plain weekday; PUT /api/v1/calendar with next "
                "year's State Council notice once it is published",
                self.calendar.name,
                self.calendar.last_day,
                left,
            )

    async def _openness(
        self, station_id: str, unit_id: str, at: datetime
    ) -> tuple[Openness | None, int | None]:
        """The schedule's answer at `at`, or None when no schedule is in force that day.

        After a schedule's last day, its last window still runs into the next morning, so the
        day before is asked when the day itself has no schedule.
        """
        day = at.astimezone(self._zone).date()
        row = await self._store.schedule_for(station_id, unit_id, day)
        if row is None:
            row = await self._store.schedule_for(station_id, unit_id, day - timedelta(days=1))
        if row is None:
            return None, None
        return openness(schedule_from(row), self.calendar, at), int(row["id"])

    async def decide(
        self,
        station_id: str,
        id_token: str | None,
        group_id: str | None,
        at: datetime,
        *,
        context: str | None = None,
        transaction_id: int | None = None,
    ) -> AccessDecision:
        """May this token start at this station at `at`? Refusals are logged with `context`."""
        if not await self._special.contains(station_id):
            return AccessDecision(True, PriceClass.PUBLIC, "public station", special=False)
        profile = await self._store.station_profile(station_id)
        if profile is None:
            return AccessDecision(True, PriceClass.PUBLIC, "unregistered station")
        mode = AccessMode(profile["access_mode"])
        unit_id = profile["unit_id"]
        membership = None
        if unit_id is not None:
            member = await self._store.is_member(unit_id, id_token, group_id)
            known = frozenset(v for v in (id_token, group_id) if v and member)
            membership = Membership(unit_id, profile["unit_name"], tokens=known, groups=known)
        public_open: bool | None = mode is AccessMode.PUBLIC
        next_change = None
        if mode is AccessMode.SHARED and unit_id is not None:
            state, _ = await self._openness(station_id, unit_id, at)
            public_open = None if state is None else state.open
            next_change = None if state is None else state.next_change
        decision = decide(
            mode, membership, id_token, group_id, public_open=public_open, next_change=next_change
        )
        if not decision.allowed and context is not None:
            await self._store.log_decision(
                at=utcnow(),
                station_id=station_id,
                unit_id=unit_id,
                id_token=id_token,
                context=context,
                allowed=False,
                reason=decision.reason,
                transaction_id=transaction_id,
            )
        return decision

    async def station_access(self, station_id: str, at: datetime) -> StationAccess | None:
        profile = await self._store.station_profile(station_id)
        if profile is None:
            return None
        mode = AccessMode(profile["access_mode"])
        unit_id, unit_name = profile["unit_id"], profile["unit_name"]
        if mode is AccessMode.PUBLIC:
            return StationAccess(station_id, mode, unit_id, unit_name, True, None, None, "public")
        if mode is AccessMode.PRIVATE or unit_id is None:
            reason = "members only" if unit_id else "no owner unit: nobody may charge"
            return StationAccess(station_id, mode, unit_id, unit_name, False, None, None, reason)
        state, schedule_id = await self._openness(station_id, unit_id, at)
        if state is None:
            return StationAccess(
                station_id, mode, unit_id, unit_name, False, None, None, "no schedule in force"
            )
        reason = "inside an opening window" if state.open else "outside the opening windows"
        return StationAccess(
            station_id, mode, unit_id, unit_name, state.open, state.next_change, schedule_id, reason
        )

    async def record_start(
        self, transaction_id: int, decision: AccessDecision | AuthDecision
    ) -> None:
        price_class = decision.price_class
        if price_class is None:
            return
        await self._store.record_start(
            transaction_id, PriceClass(price_class).value, decision.reason or ""
        )

    async def closed_since(
        self, station_id: str, unit_id: str, started: datetime
    ) -> datetime | None:
        """When the window a session started in closed (None: still open)."""
        state, _ = await self._openness(station_id, unit_id, started)
        if state is None or not state.open:
            return None
        return state.next_change


class SharingEnforcer:
    """Runs on each node for the stations connected to it."""

    def __init__(
        self,
        access: AccessService,
        store: SharingStore,
        commands: CommandService,
        bus: EventBus,
        *,
        node_id: str,
        local_stations: Callable[[], Iterable[tuple[str, OcppVersion]]],
        interval: float,
        outage: OutageLog | None = None,
    ) -> None:
        self._outage = outage or OutageLog(outage_cause)
        self._access = access
        self._store = store
        self._commands = commands
        self._bus = bus
        self._node_id = node_id
        self._local_stations = local_stations
        self._interval = interval
        self._messaged: set[int] = set()  # sessions shown the window-close message
        self._busy: set[int] = set()  # sessions a task is handling now
        # Public stations need no configuration: ask the database a few times a minute, not
        # once per boot of a boot storm.
        self._restricted = RecentSet(store.restricted_stations, max_age=RESTRICTED_MAX_AGE)
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Configure stations as they boot here; enforce windows every interval."""
        with self._bus.subscribe(booted_here(self._node_id)) as booted:
            next_round = asyncio.get_running_loop().time()
            try:
                while True:
                    wait = max(0.0, next_round - asyncio.get_running_loop().time())
                    event = await booted.next(timeout=wait)
                    if event is not None:
                        self._spawn(self._configure_after_boot(event.station_id))
                        continue
                    try:
                        await self.enforce()
                    except Exception as exc:
                        self._outage.failed(exc, log, "sharing enforcement failed")
                    next_round = asyncio.get_running_loop().time() + self._interval
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def reconfigure(self, station_id: str) -> None:
        """Configure a station again (members or mode changed) if it is connected here; any
        other node configures its own at their next boot, and the backstop holds meanwhile."""
        self._restricted.add(station_id)
        self._access.touched(station_id)
        if any(sid == station_id for sid, _ in self._local_stations()):
            self._spawn(self._configure_guarded(station_id))

    async def _configure_after_boot(self, station_id: str) -> None:
        # The boot event precedes our BootNotification answer: let the station have it first.
        await asyncio.sleep(BOOT_SETTLE)
        try:
            restricted = await self._restricted.contains(station_id)
        except Exception as exc:  # the backstop still holds; the next boot tries again
            self._outage.failed(exc, log, "%s: sharing configuration failed", station_id)
            return
        if restricted:
            await self._configure_guarded(station_id)

    async def _configure_guarded(self, station_id: str) -> None:
        """`configure` in a task of ours: a failure is logged, never left in the task."""
        try:
            await self.configure(station_id)
        except Exception as exc:  # the backstop still holds; the next boot tries again
            self._outage.failed(exc, log, "%s: sharing configuration failed", station_id)

    async def configure(self, station_id: str) -> list[str]:
        """Cache off, local list = the owner unit's members: what a non-public station needs so
        that nobody outside the unit starts while it cannot ask us. Returns what was sent."""
        profile = await self._store.station_profile(station_id)
        if profile is None or profile["access_mode"] == AccessMode.PUBLIC.value:
            return []
        v201 = profile["ocpp_version"] == OcppVersion.V201.value
        members = (
            [t["id_token"] for t in await self._store.member_tokens(profile["unit_id"])]
            if profile["unit_id"]
            else []
        )
        steps: list[tuple[str, dict[str, Any]]] = [
            (
                "set-configuration",
                {
                    "key": "AuthCacheCtrlr.Enabled" if v201 else "AuthorizationCacheEnabled",
                    "value": "false",
                },
            ),
            ("clear-cache", {}),
            (
                "set-configuration",
                {
                    "key": "LocalAuthListCtrlr.Enabled" if v201 else "LocalAuthListEnabled",
                    "value": "true",
                },
            ),
            (
                "send-local-list",
                # a version that only grows: the time of the list, in whole seconds
                {"version": int(utcnow().timestamp()), "update_type": "full", "id_tokens": members},
            ),
        ]
        sent = []
        for name, params in steps:
            try:
                await self._commands.send(
                    station_id, name, params, requested_by=SYSTEM, timeout=COMMAND_TIMEOUT
                )
                sent.append(name)
            except CsmsError as exc:  # audited in the command log; the backstop still holds
                log.warning("%s: sharing configuration %s failed: %s", station_id, name, exc)
            except Exception:  # e.g. the database: the backstop still holds; next boot retries
                log.exception("%s: sharing configuration %s failed", station_id, name)
        return sent

    async def enforce(self) -> None:
        """One round over the public sessions of this node's non-public stations. Each is
        handled in its own task, so one unanswering station never holds up the others."""
        stations = dict(self._local_stations())
        if not stations:
            return
        now = utcnow()
        sessions = await self._store.public_sessions(list(stations), now - STOP_RETRY)
        self._messaged &= {s["id"] for s in sessions}  # sessions that ended need no message
        for session in sessions:
            if session["id"] in self._busy or len(self._busy) >= MAX_CONCURRENT:
                continue  # still being handled, or enough in flight: next round
            self._busy.add(session["id"])
            self._spawn(self._enforce_guarded(session, stations[session["station_id"]], now))

    async def _enforce_guarded(
        self, session: dict[str, Any], version: OcppVersion, now: datetime
    ) -> None:
        try:
            await self._enforce_one(session, version, now)
        except Exception:
            log.exception("enforcing sharing on transaction %s failed", session["id"])
        finally:
            self._busy.discard(session["id"])

    async def _enforce_one(
        self, session: dict[str, Any], version: OcppVersion, now: datetime
    ) -> None:
        station_id, tx = session["station_id"], session["id"]
        at_start = await self._access.decide(
            station_id, session["id_token"], session["group_id"], session["started_at"]
        )
        if session["price_class"] is None:
            await self._access.record_start(tx, at_start)
        if at_start.price_class is PriceClass.MEMBER:
            return
        if not at_start.allowed:
            await self._stop(session, "backstop-stop", f"started outside access: {at_start.reason}")
            return
        unit = await self._store.station_profile(station_id)
        if unit is None or unit["unit_id"] is None or unit["close_policy"] != "stop":
            return
        closed = await self._access.closed_since(station_id, unit["unit_id"], session["started_at"])
        if closed is None or now < closed:
            return
        stop_at = closed + timedelta(minutes=unit["close_grace_minutes"])
        if version is OcppVersion.V201 and tx not in self._messaged:
            self._messaged.add(tx)
            await self._display(session, unit["close_message"] or DEFAULT_CLOSE_MESSAGE, stop_at)
        if now >= stop_at:
            await self._stop(
                session, "window-close-stop", f"opening window closed at {closed.isoformat()}"
            )

    async def _display(self, session: dict[str, Any], text: str, until: datetime) -> None:
        message = {
            "id": session["id"] % 2_000_000_000,
            "priority": "InFront",
            "message": {"format": "UTF8", "content": text[:256]},
            "transactionId": session["station_tx_id"],
            "endDateTime": until.isoformat().replace("+00:00", "Z"),
        }
        try:
            await self._commands.send_raw(
                session["station_id"],
                "SetDisplayMessage",
                {"message": message},
                requested_by=SYSTEM,
                timeout=COMMAND_TIMEOUT,
            )
        except CsmsError as exc:
            log.info("%s: display message not shown: %s", session["station_id"], exc)

    async def _stop(self, session: dict[str, Any], context: str, reason: str) -> None:
        """Ask the station to stop; asked again every STOP_RETRY while the session runs (the
        station was offline, did not answer, or refused)."""
        tx = session["id"]
        now = utcnow()
        attempt = await self._store.claim_stop(tx, now, now - STOP_RETRY)
        if attempt == 0:
            return  # another node (or an earlier round) asked a moment ago
        if attempt == 1:
            await self._store.log_decision(
                at=now,
                station_id=session["station_id"],
                unit_id=session["owner_unit"],
                id_token=session["id_token"],
                context=context,
                allowed=False,
                reason=reason,
                transaction_id=tx,
            )
        try:
            result = await self._commands.send(
                session["station_id"],
                "remote-stop",
                {"transaction_id": tx},
                requested_by=SYSTEM,
                timeout=COMMAND_TIMEOUT,
            )
        except CsmsError as exc:
            log.warning("%s: stopping transaction %s failed: %s", session["station_id"], tx, exc)
            return
        if result.response.get("status") != "Accepted":
            log.warning(
                "%s refused to stop transaction %s (attempt %d); asking again in %s",
                session["station_id"],
                tx,
                attempt,
                STOP_RETRY,
            )
