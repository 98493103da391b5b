"""Monitoring platforms: their settings, the lanes that push to them, and the records they get
besides statuses and orders (site information on change, daily statistics, a full resync; live
charging data is queued by each lane, see platform_live)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from csms import metrics
from csms.clock import utcnow
from csms.config import Settings
from csms.errors import InvalidInput
from csms.outage import OutageLog
from csms.sealed import SealedBox
from csms.services.events import EventBus
from csms.services.platform_live import LiveCharging
from csms.services.platform_push import Credentials, Lane, credentials
from csms.store.outage import cause as outage_cause
from csms.store.platform_facts import PlatformFactsStore
from csms.store.platform_outbox import OutboxStore
from csms.store.platforms import SEALED, PlatformStore
from csms.tcec import facts as site_facts
from csms.tcec.codes import status_code
from csms.tcec.envelope import Keys
from csms.tcec.messages import SiteFacts, connector_code, dumps
from csms.tcec.render import DEFAULT_METHODS

log = logging.getLogger(__name__)

# Daily statistics of yesterday are filed at 04:00: the rollup has recomputed the day's last
# hours several times by then, with what stations that were offline delivered late.
STATS_AFTER = time(4, 0)
RELOAD_EVERY = 5.0
HEALTH_EVERY = 10.0  # seconds between push-health snapshots on the live feed
RETENTION = timedelta(days=30)
# live charging data is a record per connector per interval, of no use once the order is in
LIVE_RETENTION = timedelta(days=1)
SECRET_FIELDS = {
    "operator_secret": "operator_secret_sealed",
    "data_secret": "data_secret_sealed",
    "data_iv": "data_iv_sealed",
    "sig_secret": "sig_secret_sealed",
}


@dataclass(slots=True)
class PushSwitch:
    """Whether any platform is configured: status handling records T/CEC codes only then."""

    on: bool = False


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class PlatformService:
    def __init__(
        self,
        store: PlatformStore,
        outbox: OutboxStore,
        facts: PlatformFactsStore,
        box: SealedBox,
        bus: EventBus,
        settings: Settings,
        switch: PushSwitch,
        *,
        outage: OutageLog | None = None,
        live: LiveCharging | None = None,
    ) -> None:
        self.store = store
        self.live = live
        self._outage = outage or OutageLog(outage_cause)
        self.outbox = outbox
        self._facts = facts
        self._box = box
        self._bus = bus
        self._settings = settings
        self.switch = switch
        self.zone = ZoneInfo(settings.time_zone)
        self.lanes: dict[str, tuple[Lane, asyncio.Task[None], str]] = {}
        self._reload = asyncio.Event()
        self._stats_filed: date | None = None
        self._published = float("-inf")

    # ----- settings (the API) -----

    def seal(self, fields: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """API fields -> store columns: secrets sealed, the inbound secret hashed.

        `inbound_secret: "generate"` makes a new one, returned once to the caller.
        """
        out = {k: v for k, v in fields.items() if k not in SECRET_FIELDS and k != "inbound_secret"}
        for name, column in SECRET_FIELDS.items():
            if fields.get(name) is not None:
                out[column] = self._box.seal(fields[name])
        issued: str | None = None
        if "inbound_secret" in fields:
            inbound = fields["inbound_secret"]
            if inbound == "generate":
                inbound = issued = secrets.token_urlsafe(24)
            out["inbound_secret_hash"] = None if inbound is None else secret_hash(inbound)
        return out, issued

    async def create(self, platform_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        missing = [
            f
            for f in ("base_url", "operator_id", "platform_operator_id", *SECRET_FIELDS)
            if not fields.get(f)
        ]
        if missing:
            raise InvalidInput(f"a platform needs {', '.join(missing)}")
        _check_keys(fields)
        columns, issued = self.seal(fields)
        row = await self.store.create(platform_id, columns)
        if row["enabled"]:
            await self.resync(platform_id)
        self._reload.set()
        return _shown(row, issued)

    async def update(self, platform_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        if any(fields.get(k) is None and k in fields for k in SECRET_FIELDS):
            raise InvalidInput("a platform secret cannot be removed, only replaced")
        if any(k in fields for k in ("data_secret", "data_iv", "sig_secret")):
            current = await self.store.with_secrets()
            row = next((r for r in current if r["id"] == platform_id), None)
            if row is not None:
                merged = {
                    "data_secret": fields.get("data_secret")
                    or self._box.open(row["data_secret_sealed"]),
                    "data_iv": fields.get("data_iv") or self._box.open(row["data_iv_sealed"]),
                    "sig_secret": fields.get("sig_secret")
                    or self._box.open(row["sig_secret_sealed"]),
                }
                _check_keys(merged)
        columns, issued = self.seal(fields)
        row = await self.store.update(platform_id, columns)
        if "inbound_secret" in fields:
            await self.store.revoke_tokens(platform_id)
        self._reload.set()
        return _shown(row, issued)

    async def delete(self, platform_id: str) -> None:
        await self.store.delete(platform_id)
        self._reload.set()

    async def health(self) -> list[dict[str, Any]]:
        """Every platform with its backlog and the sender's view: for the API and dashboard."""
        rows = await self.store.all()
        backlog = await self.outbox.backlog()
        now = utcnow()
        out = []
        for row in rows:
            b = backlog.get(row["id"], {})
            lane = self.lanes.get(row["id"])
            oldest = b.get("oldest_pending_at")
            out.append(
                {
                    "id": row["id"],
                    "name": row["name"],
                    "enabled": row["enabled"],
                    "last_success_at": row["last_success_at"],
                    "last_failure_at": row["last_failure_at"],
                    "last_ret": row["last_ret"],
                    "last_msg": row["last_msg"],
                    "pending": b.get("pending", 0),
                    "failed": b.get("failed", 0),
                    "oldest_pending_at": oldest,
                    "oldest_pending_seconds": None
                    if oldest is None
                    else round((now - oldest).total_seconds(), 1),
                    "sender_here": bool(lane and lane[0].holding_lock),
                    "token_expires_at": lane[0].link.token_expires if lane else None,
                }
            )
        return out

    async def shown(self, platform_id: str) -> dict[str, Any]:
        return _shown(await self.store.get(platform_id), None)

    async def listed(self) -> list[dict[str, Any]]:
        return [_shown(r, None) for r in await self.store.all()]

    def poke(self, platform_id: str) -> None:
        lane = self.lanes.get(platform_id)
        if lane is not None:
            lane[0].poke()

    # ----- the lanes -----

    async def run(self) -> None:
        """Keep one lane per enabled platform (restarted when its settings change)."""
        async with asyncio.TaskGroup() as tasks:
            try:
                while True:
                    try:
                        await self._sync_lanes(tasks)
                        await self._gauges()
                    except Exception as exc:
                        self._outage.failed(exc, log, "platform lanes: reload failed")
                    self._reload.clear()
                    # asyncio.timeout, not wait_for: 3.11's can swallow a cancellation
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(RELOAD_EVERY):
                            await self._reload.wait()
            finally:
                for _lane, task, _fp in self.lanes.values():
                    task.cancel()
                self.lanes.clear()

    async def reload(self) -> None:
        self._reload.set()

    async def _sync_lanes(self, tasks: asyncio.TaskGroup) -> None:
        every = await self.store.with_secrets()
        # a disabled platform is paused: its records still queue, so codes are still kept
        self.switch.on = bool(every)
        rows = [r for r in every if r["enabled"]]
        wanted: dict[str, Credentials] = {}
        for row in rows:
            try:
                wanted[row["id"]] = credentials(row, self._box)
            except Exception as exc:  # a secret that does not open: say so, keep the others
                log.error("platform %s cannot be used: %s", row["id"], exc)
        for platform_id in list(self.lanes):
            lane, task, fingerprint = self.lanes[platform_id]
            creds = wanted.get(platform_id)
            if creds is None or creds.fingerprint != fingerprint or task.done():
                task.cancel()
                del self.lanes[platform_id]
        for platform_id, creds in wanted.items():
            if platform_id in self.lanes:
                continue
            # a client per platform: a platform that hangs cannot take another's connections
            client = httpx.AsyncClient(
                timeout=self._settings.push_timeout,
                limits=httpx.Limits(
                    max_connections=self._settings.push_concurrency,
                    max_keepalive_connections=self._settings.push_concurrency,
                ),
            )
            lane = Lane(
                creds,
                self.outbox,
                self.store,
                self._bus,
                client=client,
                schedule=self._settings.push_retry,
                concurrency=self._settings.push_concurrency,
                poll=self._settings.push_poll,
                outage=self._outage,
                live=None if self.live is None else self.live.queue,
            )
            task = tasks.create_task(_guarded(lane, client), name=f"platform-{platform_id}")
            self.lanes[platform_id] = (lane, task, creds.fingerprint)

    async def _gauges(self) -> None:
        """Every HEALTH_EVERY: Prometheus gauges and a health snapshot on the live feed (the
        backlog count reads every pending row, so not more often)."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._published < HEALTH_EVERY:
            return
        self._published = loop.time()
        for health in await self.health():
            self._bus.publish("platform.health", "", **_jsonable(health))
            metrics.PLATFORM_BACKLOG.labels(health["id"]).set(health["pending"])
            metrics.PLATFORM_OLDEST_PENDING.labels(health["id"]).set(
                health["oldest_pending_seconds"] or 0
            )

    # ----- records besides statuses and orders -----

    async def current_sites(self) -> list[SiteFacts]:
        piles = await self._facts.piles()
        ids = [p["id"] for p in piles]
        return site_facts.sites(
            piles, await self._facts.equipment(ids), await self._facts.connectors(ids)
        )

    async def sync_station_info(self) -> int:
        """Queue the information of every site whose facts changed since last pushed."""
        if not self.switch.on:
            return 0
        known = await self.outbox.digests()
        queued = 0
        for site in await self.current_sites():
            code, fingerprint = site_facts.site_code(site), site_facts.digest(site)
            if known.get(code) != fingerprint:
                queued += await self.outbox.site_changed(
                    code, known.get(code), fingerprint, dumps(site_facts.site_data(site))
                )
        return queued

    async def resync(self, platform_id: str) -> dict[str, int]:
        """Queue every site's information and every connector's current status for one
        platform (a new platform, or one that lost its data)."""
        info = status = 0
        if not await self.outbox.digests():
            # no site was ever pushed (a first platform): the fingerprint sweep queues them for
            # every platform and remembers them, so the minute job does not queue them again
            self.switch.on = True
            info = await self.sync_station_info()
            sites = []
        else:
            sites = await self.current_sites()
        for site in sites:
            info += await self.outbox.enqueue_for(
                platform_id,
                "station_info",
                f"site:{site_facts.site_code(site)}",
                dumps(site_facts.site_data(site)),
            )
        for pile in await self._facts.piles():
            status += await self.outbox.resync_station(
                platform_id, pile["id"], site_facts.timed_codes
            )
        self.poke(platform_id)
        return {"station_info": info, "connector_status": status}

    async def file_daily_stats(self, now: datetime) -> int:
        """Yesterday's energy per site, pile and connector, once per platform (idempotent)."""
        local = now.astimezone(self.zone)
        day = local.date() - timedelta(days=1)
        if not self.switch.on or local.time() < STATS_AFTER or self._stats_filed == day:
            return 0
        queued = await self.queue_stats(day, day)
        self._stats_filed = day
        return queued

    async def queue_stats(self, first: date, last: date, platform_id: str | None = None) -> int:
        """Queue a period's statistics, each period once per platform: for every platform
        that takes them, or for `platform_id` alone (the others keep what they were sent)."""
        sites = await self.current_sites()
        ids = [p.station_id for s in sites for p in s.piles]
        energy = {
            (r["station_id"], r["evse_id"]): int(r["energy_wh"])
            for r in await self._facts.energy(ids, first, last)
        }
        queued = 0
        for site in sites:
            code = site_facts.site_code(site)
            data = dumps(stats_data(code, first, last, site, energy))
            key = f"stats:{code}:{first}:{last}"
            if platform_id is None:
                queued += await self.outbox.enqueue("station_stats", f"site:{code}", data, key)
            else:
                queued += await self.outbox.enqueue_for(
                    platform_id, "station_stats", f"site:{code}", data, key
                )
        return queued

    async def station_back(self, station_id: str, at: datetime) -> None:
        """A station reconnected: connectors platforms were told are offline get their last
        reported status back (a reconnect need not bring new StatusNotifications)."""
        known = await self.outbox.codes(station_id)
        if not any(k["code"] == 0 for k in known):
            return
        rows = await self._facts.connectors([station_id])
        codes = site_facts.live_codes(rows).get(station_id, [])
        await self.outbox.set_codes(station_id, codes, at)

    def charging_code(self, state: str | None, *, ended: bool) -> int | None:
        """The code a 2.0.1 TransactionEvent gives its EVSE (StatusNotification only says
        Occupied): Charging is 3; EVConnected and Suspended* are 2, as is an ended session whose
        cable is still in (the Available after the unplug makes it 1). Idle changes nothing.
        None also when no platform listens."""
        if not self.switch.on:
            return None
        if ended:
            return 2
        if state == "Charging":
            return 3
        if state in ("EVConnected", "SuspendedEV", "SuspendedEVSE"):
            return 2
        return None

    def status_code(self, status: str) -> int | None:
        """The code to record with a StatusNotification, None when no platform listens."""
        if not self.switch.on:
            return None
        try:
            return status_code(status, connected=True)
        except ValueError:
            return None

    async def purge(self, now: datetime) -> int:
        return await self.outbox.purge_sent(now - RETENTION, now - LIVE_RETENTION)


def stats_data(
    code: str,
    first: date,
    last: date,
    site: SiteFacts,
    energy: Mapping[tuple[str, int], int],
) -> dict[str, Any]:
    piles: list[list[Any]] = []
    for pile in site.piles:
        evses = sorted({c.evse_id for c in pile.connectors}) or [1]
        piles.append(
            [
                pile.station_id,
                [
                    [connector_code(pile.station_id, e, 1), energy.get((pile.station_id, e), 0)]
                    for e in evses
                ],
            ]
        )
    return {
        "station_code": code,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "piles": piles,
    }


async def _guarded(lane: Lane, client: httpx.AsyncClient) -> None:
    """A lane that fails is logged and restarted by the next reload, never silently lost."""
    try:
        async with client:
            await lane.run()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("platform %s: the sender stopped", lane.platform_id)


def _jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _check_keys(fields: Mapping[str, Any]) -> None:
    try:
        Keys.of(fields["data_secret"], fields["data_iv"], fields["sig_secret"])
    except (ValueError, UnicodeError) as exc:
        raise InvalidInput(str(exc)) from None


def _shown(row: Mapping[str, Any], issued: str | None) -> dict[str, Any]:
    shown = {k: v for k, v in row.items() if k not in SEALED and k != "inbound_secret_hash"}
    shown["methods"] = {**DEFAULT_METHODS, **(row.get("methods") or {})}
    if issued is not None:
        shown["inbound_secret"] = issued
    return shown
