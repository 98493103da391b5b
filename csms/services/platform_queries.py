"""Queries a monitoring platform makes of the CSMS (T/CEC 102 on the same envelope).

Every answer is HTTP 200 with a Ret: 4003 for a malformed envelope or an unknown OperatorID,
4001 for a bad signature, 4002 for a missing or expired token, 4004 for wrong business data.
A site the registry cannot describe yet (no address, say) is left out of the station query
and named in its Msg, the log and `left_out()`; it never fails the query for the others.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from csms import metrics
from csms.billing.tariff import DayType
from csms.clock import utcnow
from csms.outage import OutageLog
from csms.sealed import SealedBox
from csms.services.platforms import PlatformService, secret_hash, stats_data
from csms.store.outage import cause as outage_cause
from csms.store.platform_facts import PlatformFactsStore
from csms.store.platforms import PlatformStore
from csms.store.tariffs import TariffStore
from csms.tcec import facts as site_facts
from csms.tcec.envelope import (
    EnvelopeError,
    Keys,
    Ret,
    check_fields,
    open_request,
    parse_body,
    seal_answer,
)
from csms.tcec.live import charge_status
from csms.tcec.messages import (
    PushDataError,
    SiteFacts,
    Spelling,
    connector_code,
    dumps,
    policy_infos,
    station_info,
    station_stats,
)

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 50
MAX_STATUS_STATIONS = 50
MAX_STATS_DAYS = 366


MAX_MSG_GAPS = 5  # sites named in the answer's Msg; the rest are counted


class QueryError(Exception):
    """Business data the query cannot be answered for (Ret 4004)."""


@dataclass(frozen=True, slots=True)
class Gap:
    """A site left out of the station query: its T/CEC StationID, its piles, and why."""

    code: str
    station_ids: tuple[str, ...]
    reason: str


def station_infos(
    sites: Iterable[SiteFacts], *, operator_id: str, service_tel: str | None
) -> tuple[list[dict[str, Any]], list[Gap]]:
    """The StationInfos of the sites that can be described, and a Gap for each that cannot:
    one station without an address must not keep the platform from every other."""
    infos: list[dict[str, Any]] = []
    gaps: list[Gap] = []
    for site in sites:
        try:
            infos.append(station_info(site, operator_id=operator_id, service_tel=service_tel))
        except PushDataError as exc:
            gaps.append(
                Gap(site_facts.site_code(site), tuple(p.station_id for p in site.piles), str(exc))
            )
    return infos, gaps


def gaps_msg(gaps: Sequence[Gap]) -> str:
    """The answer's Msg when sites were left out (T/CEC's Msg is free text; empty when none)."""
    if not gaps:
        return ""
    named = "; ".join(f"{g.code}: {g.reason}" for g in gaps[:MAX_MSG_GAPS])
    more = len(gaps) - MAX_MSG_GAPS
    rest = f"; and {more} more" if more > 0 else ""
    noun = "station" if len(gaps) == 1 else "stations"
    return f"{len(gaps)} {noun} left out for missing registry data: {named}{rest}"


class PlatformQueries:
    def __init__(
        self,
        store: PlatformStore,
        platforms: PlatformService,
        facts: PlatformFactsStore,
        tariffs: TariffStore,
        box: SealedBox,
        *,
        token_lifetime: int,
        day_type_of: Callable[[date], DayType],
        now: Callable[[], datetime] = utcnow,
        outage: OutageLog | None = None,
    ) -> None:
        self._outage = outage or OutageLog(outage_cause)
        self._store = store
        self._platforms = platforms
        self._facts = facts
        self._tariffs = tariffs
        self._box = box
        self._token_lifetime = token_lifetime
        self._day_type_of = day_type_of
        self._now = now
        self._logged_gaps: frozenset[Gap] = frozenset()

    async def handle(self, method: str, body: bytes, authorization: str | None) -> dict[str, Any]:
        """The signed answer envelope to one request; never raises for bad input."""
        keys: Keys | None = None
        try:
            envelope = parse_body(body)
            check_fields(envelope)
            rows = await self._store.with_secrets(platform_operator_id=envelope["OperatorID"])
            if not rows or not rows[0]["enabled"]:
                raise EnvelopeError(Ret.BAD_ENVELOPE, "unknown OperatorID")
            row = rows[0]
            keys = Keys.of(
                self._box.open(row["data_secret_sealed"]),
                self._box.open(row["data_iv_sealed"]),
                self._box.open(row["sig_secret_sealed"]),
            )
            request = open_request(keys, envelope)
            if not isinstance(request.data, dict):
                raise EnvelopeError(Ret.BAD_DATA, "Data must be a JSON object")
            spelling = Spelling(row["spelling"])
            msg = ""
            if method == "query_token":
                data = await self._token(row, request.operator_id, request.data)
            else:
                await self._authorize(row["id"], authorization)
                data, msg = await self._answer(method, request.data, row, spelling)
        except EnvelopeError as exc:
            metrics.PLATFORM_QUERIES.labels(_label(method), str(int(exc.ret))).inc()
            return _answer(keys, exc.ret, exc.msg, None)
        except (QueryError, PushDataError) as exc:
            metrics.PLATFORM_QUERIES.labels(_label(method), str(int(Ret.BAD_DATA))).inc()
            return _answer(keys, Ret.BAD_DATA, str(exc), None)
        except Exception as exc:
            # T/CEC answers everything with HTTP 200 and a Ret: an outage is Ret 500 too, but
            # said once per interval instead of a traceback per query
            if self._outage.absorb(exc, "api") is None:
                log.exception("platform query %s failed", _label(method))
            metrics.PLATFORM_QUERIES.labels(_label(method), str(int(Ret.SYSTEM_ERROR))).inc()
            return _answer(keys, Ret.SYSTEM_ERROR, "system error", None)
        metrics.PLATFORM_QUERIES.labels(_label(method), "0").inc()
        return _answer(keys, Ret.OK, msg, dumps(data))

    async def _token(
        self, row: Mapping[str, Any], operator_id: str, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """query_token: SuccStat 1 with FailReason 1 (unknown operator) or 2 (wrong secret)."""
        fail = {
            "OperatorID": operator_id,
            "SuccStat": 1,
            "AccessToken": "",
            "TokenAvailableTime": 0,
        }
        if data.get("OperatorID") != operator_id:
            return {**fail, "FailReason": 1}
        secret = data.get("OperatorSecret")
        stored = row["inbound_secret_hash"]
        if (
            stored is None
            or not isinstance(secret, str)
            or not hmac.compare_digest(secret_hash(secret), stored)
        ):
            return {**fail, "FailReason": 2}
        token = secrets.token_urlsafe(32)
        now = self._now()
        await self._store.issue_token(
            row["id"], secret_hash(token), now, now + timedelta(seconds=self._token_lifetime)
        )
        return {
            "OperatorID": operator_id,
            "SuccStat": 0,
            "AccessToken": token,
            "TokenAvailableTime": self._token_lifetime,
            "FailReason": 0,
        }

    async def _authorize(self, platform_id: str, authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise EnvelopeError(Ret.BAD_TOKEN, "no bearer token")
        owner = await self._store.token_platform(
            secret_hash(authorization[len("Bearer ") :].strip()), self._now()
        )
        if owner != platform_id:
            raise EnvelopeError(Ret.BAD_TOKEN, "token unknown or expired")

    async def _answer(
        self, method: str, data: Mapping[str, Any], row: Mapping[str, Any], spelling: Spelling
    ) -> tuple[dict[str, Any], str]:
        """The Data of the answer, and its Msg."""
        if method == "query_stations_info":
            return await self._stations_info(data, row)
        if method == "query_station_status":
            return await self._station_status(data), ""
        if method == "query_station_stats":
            return await self._station_stats(data), ""
        if method == "query_equip_business_policy":
            return await self._business_policy(data, spelling), ""
        if method == "query_equip_charge_status":
            return await self._charge_status(data, row, spelling), ""
        raise EnvelopeError(Ret.BAD_DATA, f"unknown method {method!r}")

    async def _stations_info(
        self, data: Mapping[str, Any], row: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """One page of the sites that can be described; the pages count those only, and the
        Msg names the sites left out."""
        page_no = _int(data, "PageNo", 1, 1, 10**6)
        page_size = _int(data, "PageSize", 10, 1, MAX_PAGE_SIZE)
        since = _when(data.get("LastQueryTime"), self._platforms.zone)
        sites = await self._platforms.current_sites()
        if since is not None:
            piles = await self._facts.piles()
            changed = {p["id"] for p in piles if p["updated_at"] >= since}
            sites = [s for s in sites if any(p.station_id in changed for p in s.piles)]
        infos, gaps = await _described(sites, row["operator_id"], row["service_tel"])
        self._log_gaps(row["id"], gaps)
        pages = max(1, math.ceil(len(infos) / page_size))
        answer = {
            "PageNo": page_no,
            "PageCount": pages,
            "ItemSize": len(infos),
            "StationInfos": infos[(page_no - 1) * page_size : page_no * page_size],
        }
        return answer, gaps_msg(gaps)

    async def left_out(self) -> list[Gap]:
        """The sites the station query leaves out now, and why (for the operators)."""
        _, gaps = await _described(await self._platforms.current_sites(), "", None)
        return gaps

    def _log_gaps(self, platform_id: str, gaps: Sequence[Gap]) -> None:
        """A warning when the sites left out change, not one per query."""
        current = frozenset(gaps)
        if current - self._logged_gaps:
            log.warning(
                "platform %s: the station query leaves out %d site(s) the registry cannot "
                "describe (GET /api/v1/registry/left-out): %s",
                platform_id,
                len(gaps),
                gaps_msg(gaps),
            )
        self._logged_gaps = current

    async def _sites_by_code(self, codes: list[str]) -> dict[str, SiteFacts]:
        by_code = {site_facts.site_code(s): s for s in await self._platforms.current_sites()}
        return {c: by_code[c] for c in codes if c in by_code}

    async def _station_status(self, data: Mapping[str, Any]) -> dict[str, Any]:
        codes = data.get("StationIDs")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise QueryError("StationIDs must be a list of station codes")
        if len(codes) > MAX_STATUS_STATIONS:
            raise QueryError(f"at most {MAX_STATUS_STATIONS} StationIDs per query")
        sites = await self._sites_by_code(codes)
        ids = [p.station_id for s in sites.values() for p in s.piles]
        live = site_facts.live_codes(await self._facts.connectors(ids))
        infos = []
        for code, site in sites.items():
            connectors: list[dict[str, Any]] = []
            for pile in site.piles:
                connectors += site_facts.connector_status_infos(
                    pile.station_id, live.get(pile.station_id, [])
                )
            infos.append({"StationID": code, "ConnectorStatusInfos": connectors})
        return {"Total": len(infos), "StationStatusInfos": infos}

    async def _station_stats(self, data: Mapping[str, Any]) -> dict[str, Any]:
        code = data.get("StationID")
        if not isinstance(code, str):
            raise QueryError("StationID is required")
        first, last = _day(data, "StartTime"), _day(data, "EndTime")
        if last < first or (last - first).days >= MAX_STATS_DAYS:
            raise QueryError(f"EndTime must be on or after StartTime, within {MAX_STATS_DAYS} days")
        site = (await self._sites_by_code([code])).get(code)
        if site is None:
            raise QueryError(f"no station {code}")
        ids = [p.station_id for p in site.piles]
        energy = {
            (r["station_id"], r["evse_id"]): int(r["energy_wh"])
            for r in await self._facts.energy(ids, first, last)
        }
        facts = stats_data(code, first, last, site, energy)
        return station_stats(
            code,
            first,
            last,
            [(p, [(c, int(wh)) for c, wh in conns]) for p, conns in facts["piles"]],
        )

    async def _business_policy(self, data: Mapping[str, Any], spelling: Spelling) -> dict[str, Any]:
        seq, connector = data.get("EquipBizSeq"), data.get("ConnectorID")
        if not isinstance(seq, str) or not isinstance(connector, str):
            raise QueryError("EquipBizSeq and ConnectorID are required strings")
        answer: dict[str, Any] = {"EquipBizSeq": seq, "ConnectorID": connector}
        station_id = await self._station_of(connector)
        if station_id is None:
            return {**answer, "SuccStat": 1, "FailReason": 1, "SumPeriod": 0, "PolicyInfos": []}
        now = self._now()
        tariff = await self._tariffs.resolve(station_id, now, "public")
        if tariff is None:
            # no tariff in force: say so rather than publish a price nobody is billed by
            return {**answer, "SuccStat": 1, "FailReason": 2, "SumPeriod": 0, "PolicyInfos": []}
        day = now.astimezone(ZoneInfo(tariff.time_zone)).date()
        policy = policy_infos(tariff, day, self._day_type_of(day), spelling)
        return {**answer, "SuccStat": 0, "FailReason": 0, **policy}

    async def _charge_status(
        self, data: Mapping[str, Any], row: Mapping[str, Any], spelling: Spelling
    ) -> dict[str, Any]:
        """query_equip_charge_status: the session's live state, from the builder that pushes it
        (an ended session answers StartChargeSeqStat 4 with its final figures)."""
        seq = data.get("StartChargeSeq")
        if not isinstance(seq, str):
            raise QueryError("StartChargeSeq is required")
        transaction_id = transaction_of(seq, row["operator_id"])
        live = self._platforms.live
        facts = (
            None if transaction_id is None or live is None else await live.current(transaction_id)
        )
        if facts is None:
            raise QueryError(f"no charging session {seq}")
        return charge_status(facts, operator_id=row["operator_id"], spelling=spelling)

    async def _station_of(self, connector: str) -> str | None:
        """The pile a ConnectorID names: station id + "-" + EVSE [+ "-" + connector]; only the
        candidate stations are read."""
        parts = connector.split("-")
        candidates = {"-".join(parts[:-n]) for n in (1, 2) if len(parts) > n}
        if not candidates:
            return None
        piles = await self._facts.piles(sorted(candidates))
        ids = [p["id"] for p in piles]
        for r in await self._facts.connectors(ids):
            if connector_code(r["station_id"], r["evse_id"], r["connector_id"]) == connector:
                return str(r["station_id"])
        for e in await self._facts.equipment(ids):
            if connector_code(e["station_id"], e["connector_no"], 1) == connector:
                return str(e["station_id"])
        return None


async def _described(
    sites: list[SiteFacts], operator_id: str, service_tel: str | None
) -> tuple[list[dict[str, Any]], list[Gap]]:
    """`station_infos` off the event loop: every site is described to find the ones that
    cannot be (measured 0.35 s for 20k piles: every socket of the node would wait)."""
    return await asyncio.to_thread(
        station_infos, sites, operator_id=operator_id, service_tel=service_tel
    )


def _answer(keys: Keys | None, ret: int, msg: str, data_json: str | None) -> dict[str, Any]:
    """Signed when the caller's keys are known; an unknown caller gets an unsigned answer."""
    if keys is None:
        return {"Ret": int(ret), "Msg": msg, "Data": "", "Sig": ""}
    return seal_answer(keys, int(ret), msg, data_json)


def transaction_of(seq: str, operator_id: str) -> int | None:
    """The transaction a StartChargeSeq of ours names (operator id + zero-filled number)."""
    number = seq.removeprefix(operator_id)
    if number == seq or not number.isascii() or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


def _label(method: str) -> str:
    known = (
        "query_token",
        "query_stations_info",
        "query_station_status",
        "query_station_stats",
        "query_equip_business_policy",
        "query_equip_charge_status",
    )
    return method if method in known else "other"


def _int(data: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise QueryError(f"{name} must be an integer {low}..{high}")
    return value


def _when(text: Any, zone: ZoneInfo) -> datetime | None:
    if text in (None, ""):
        return None
    if not isinstance(text, str):
        raise QueryError("LastQueryTime must be 'yyyy-MM-dd HH:mm:ss'")
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError:
        raise QueryError("LastQueryTime must be 'yyyy-MM-dd HH:mm:ss'") from None


def _day(data: Mapping[str, Any], name: str) -> date:
    text = data.get(name)
    try:
        return date.fromisoformat(str(text)[:10]) if isinstance(text, str) else _missing(name)
    except ValueError:
        raise QueryError(f"{name} must be 'yyyy-MM-dd'") from None


def _missing(name: str) -> date:
    raise QueryError(f"{name} is required ('yyyy-MM-dd')")
