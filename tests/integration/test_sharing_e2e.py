"""Shared internal piles end to end: simulated 1.6 and 2.0.1 stations, starts judged at their
own time, station configuration, the enforcer's stops, prices by class, calendar, reports, and
bad input refused with nothing stored."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from csms.bootstrap import Running, running
from csms.clock import isoformat, running_from, utcnow
from tests.conftest import ADMIN_TOKEN, Api, make_settings
from tests.ocpp_client import OcppClient
from tests.station_responder import ACCEPTED, REPLIES_201, DuplexStation, duplex_station

pytestmark = pytest.mark.time_sensitive  # `make test-clock` runs it at a fixed moment too

SHANGHAI = ZoneInfo("Asia/Shanghai")
WED_10 = "2026-11-25T02:00:00Z"  # Wednesday 10:00 in Shanghai: working hours, members only
SUN_10 = "2026-11-29T02:00:00+00:00"  # Sunday 10:00 in Shanghai: open to the public
WED_19 = "2026-11-25T11:00:00Z"  # Wednesday 19:00: inside mon-fri 18:00-08:00
WED_20 = "2026-11-25T12:00:00Z"
THU_08 = "2026-11-26T00:00:00Z"  # Thursday 08:00: the Wednesday evening window closes
UNIT, UNIT_NAME = "edu-a", "县教育局"
STAFF, GROUP_STAFF, GROUP, PUBLIC = "STAFF-1", "STAFF-2", "EDU-STAFF", "PUBLIC-1"
CLOSE_MESSAGE = "对外开放时段已结束，请结束充电"
REGISTER = "Energy.Active.Import.Register"
EVENINGS = [
    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "18:00", "end": "08:00"},
    {"days": ["sat", "sun"], "start": "00:00", "end": "24:00"},
]
ALL_DAYS = [
    {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}
]
FAST = 0.3  # sharing_interval of the enforcer tests, seconds
VERSIONS = pytest.mark.parametrize("version", ["1.6", "2.0.1"])
_ids = itertools.count(1)


# --- helpers -----------------------------------------------------------------------------------


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def refused(version: str) -> str:
    """How a start the sharing rules refuse is answered (1.6 has no NotAtThisTime)."""
    return "Invalid" if version == "1.6" else "NotAtThisTime"


def start_context(version: str) -> str:
    return "StartTransaction" if version == "1.6" else "TransactionEvent"


def stop_action(version: str) -> str:
    return "RemoteStopTransaction" if version == "1.6" else "RequestStopTransaction"


def local_today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


async def not_at_midnight() -> None:
    """Tests judged "now" against a dated exception for today: keep clear of local midnight."""
    now = utcnow().astimezone(SHANGHAI)
    if now.hour == 23 and now.minute == 59 and now.second >= 50:
        await asyncio.sleep(11)


@dataclass(frozen=True, slots=True)
class Session:
    tx: int | str  # 1.6: the CSMS transactionId; 2.0.1: the station's transactionId
    status: str
    connector: int


class Station(DuplexStation):
    """A simulated station: answers every CSMS CALL in the background (valid replies) and keeps
    what it was sent; starts and stops sessions in its own OCPP version."""

    model = "S"

    def __init__(self, client: OcppClient, version: str) -> None:
        replies = None if version == "1.6" else {**REPLIES_201, "SetDisplayMessage": ACCEPTED}
        super().__init__(client, version, replies)
        self._seq: dict[str, int] = {}

    async def start(self, token: str, at: str, *, connector: int = 1, wh: int = 0) -> Session:
        """Start a session at `at` (the station's own timestamp) with the register at `wh`."""
        if self.v16:
            answer = await self.call(
                "StartTransaction",
                {"connectorId": connector, "idTag": token, "meterStart": wh, "timestamp": at},
            )
            return Session(answer["transactionId"], answer["idTagInfo"]["status"], connector)
        tx = f"TX-{next(_ids)}"
        self._seq[tx] = 0
        answer = await self.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": at,
                "triggerReason": "Authorized",
                "seqNo": 0,
                "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
                "evse": {"id": connector, "connectorId": 1},
                "idToken": {"idToken": token, "type": "ISO14443"},
                "meterValue": [register(at, wh, "Transaction.Begin")],
            },
        )
        return Session(tx, answer["idTokenInfo"]["status"], connector)

    async def plug_in(self, at: str, *, connector: int = 1, wh: int = 0) -> Session:
        """2.0.1: a transaction that begins when the cable is plugged in, before any token."""
        tx = f"TX-{next(_ids)}"
        self._seq[tx] = 0
        await self.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": at,
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {"transactionId": tx, "chargingState": "EVConnected"},
                "evse": {"id": connector, "connectorId": 1},
                "meterValue": [register(at, wh, "Transaction.Begin")],
            },
        )
        return Session(tx, "", connector)

    async def badge(self, session: Session, token: str, at: str) -> str:
        """2.0.1: the driver presents a token in a running transaction; its idTokenInfo status."""
        tx = str(session.tx)
        self._seq[tx] += 1
        answer = await self.call(
            "TransactionEvent",
            {
                "eventType": "Updated",
                "timestamp": at,
                "triggerReason": "Authorized",
                "seqNo": self._seq[tx],
                "transactionInfo": {"transactionId": tx},
                "idToken": {"idToken": token, "type": "ISO14443"},
            },
        )
        status: str = answer["idTokenInfo"]["status"]
        return status

    async def stop(self, session: Session, at: str, wh: int = 0) -> None:
        if self.v16:
            await self.call(
                "StopTransaction", {"transactionId": session.tx, "meterStop": wh, "timestamp": at}
            )
            return
        tx = str(session.tx)
        self._seq[tx] += 1
        await self.call(
            "TransactionEvent",
            {
                "eventType": "Ended",
                "timestamp": at,
                "triggerReason": "EVDeparted",
                "seqNo": self._seq[tx],
                "transactionInfo": {"transactionId": tx, "stoppedReason": "EVDisconnected"},
                "meterValue": [register(at, wh, "Transaction.End")],
            },
        )


def register(at: str, wh: int, context: str) -> dict[str, Any]:
    """A 2.0.1 meterValue holding the import register (in kWh)."""
    return {
        "timestamp": at,
        "sampledValue": [
            {
                "value": wh / 1000,
                "context": context,
                "measurand": REGISTER,
                "unitOfMeasure": {"unit": "kWh"},
            }
        ],
    }


def station(csms: Running, station_id: str, version: str) -> AbstractAsyncContextManager[Station]:
    """A connected, booted station answering the CSMS until the block ends."""
    return duplex_station(csms.ocpp_port, station_id, version, Station)


@contextlib.asynccontextmanager
async def api_of(csms: Running) -> AsyncIterator[Api]:
    """The API of a CSMS started here (the admin token holds every role)."""
    keys = dict.fromkeys(("admin", "operator", "viewer"), ADMIN_TOKEN)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{csms.http_port}", timeout=30
    ) as client:
        yield Api(client, keys)


@pytest.fixture
async def fast(database_url: str) -> AsyncIterator[tuple[Running, Api]]:
    """A CSMS whose sharing enforcer runs every FAST seconds, and its API."""
    async with (
        running(make_settings(database_url, sharing_interval=FAST)) as csms,
        api_of(csms) as api,
    ):
        yield csms, api


async def ok(response: Any, status: int = 200) -> Any:
    """The JSON of a response that must have `status`."""
    response = await response
    assert response.status_code == status, response.text
    return response.json()


async def add_tokens(api: Api) -> None:
    """STAFF is a member by token, GROUP_STAFF by its group, PUBLIC is anyone."""
    for body in (
        {"id_token": STAFF},
        {"id_token": GROUP_STAFF, "group_id": GROUP},
        {"id_token": PUBLIC},
    ):
        await ok(api.post("/api/v1/tokens", json=body), 201)


async def shared_unit(
    api: Api,
    *station_ids: str,
    windows: list[dict[str, Any]] | None = None,
    exceptions: list[dict[str, Any]] | None = None,
    close_policy: str = "finish",
) -> None:
    """The unit, its members, its stations shared, and its schedule (evenings and weekends)."""
    await add_tokens(api)
    for station_id in station_ids:
        await ok(api.post("/api/v1/stations", json={"id": station_id}), 201)
    await ok(
        api.post(
            "/api/v1/units",
            json={
                "unit_id": UNIT,
                "name": UNIT_NAME,
                "kind": "government",
                "members": [{"kind": "token", "value": STAFF}, {"kind": "group", "value": GROUP}],
                "close_policy": close_policy,
                "close_grace_minutes": 0,
                "close_message": CLOSE_MESSAGE,
            },
        ),
        201,
    )
    for station_id in station_ids:
        await ok(
            api.put(
                f"/api/v1/stations/{station_id}/access",
                json={"access_mode": "shared", "unit_id": UNIT},
            )
        )
    await ok(
        api.post(
            f"/api/v1/units/{UNIT}/schedules",
            json={
                "effective_from": "2024-01-01",
                "windows": EVENINGS if windows is None else windows,
                "exceptions": exceptions or [],
            },
        ),
        201,
    )


async def access_at(api: Api, station_id: str, at: str) -> dict[str, Any]:
    answer: dict[str, Any] = await ok(
        api.get(f"/api/v1/stations/{station_id}/access", params={"at": at})
    )
    return answer


async def decisions(api: Api, station_id: str) -> list[tuple[str | None, str, bool]]:
    """(id token, context, allowed) of the station's logged decisions, newest first."""
    rows = await ok(api.get("/api/v1/access-decisions", params={"station_id": station_id}))
    return [(row["id_token"], row["context"], row["allowed"]) for row in rows]


async def transaction_pk(api: Api, station_id: str, session: Session) -> int:
    """The CSMS id of a session (1.6 stations already use it)."""
    if isinstance(session.tx, int):
        return session.tx
    rows = await ok(api.get("/api/v1/transactions", params={"station_id": station_id}))
    (pk,) = [row["id"] for row in rows if row["station_tx_id"] == session.tx]
    return int(pk)


def flat_tariff(tariff_id: str, energy: str, service: str) -> dict[str, Any]:
    return {
        "tariff_id": tariff_id,
        "name": tariff_id,
        "effective_from": "2020-01-01T00:00:00+08:00",
        "prices": {"flat": {"energy": energy, "service": service}},
        "plans": [{"periods": [{"start": "00:00", "end": "24:00", "band": "flat"}]}],
    }


async def tariffs_by_class(api: Api) -> None:
    """The public pays the published 1.00 CNY/kWh (network, everyone); the unit's members pay
    0.40 at cost (owner unit, members only)."""
    await ok(api.post("/api/v1/tariffs", json=flat_tariff("published", "0.6000", "0.4000")), 201)
    await ok(api.post("/api/v1/tariffs", json=flat_tariff("at-cost", "0.3000", "0.1000")), 201)
    for body in (
        {"tariff_id": "published", "scope": "network", "audience": "all"},
        {"tariff_id": "at-cost", "scope": "owner", "target": UNIT, "audience": "member"},
    ):
        await ok(
            api.post(
                "/api/v1/tariff-assignments", json={**body, "effective_from": "2020-01-01T00:00Z"}
            ),
            201,
        )


async def cdr_of(api: Api, station_id: str, pk: int) -> dict[str, Any]:
    bill = await ok(api.get(f"/api/v1/transactions/{pk}/bill"))
    assert bill["review"] is None and len(bill["cdrs"]) == 1, bill
    cdr: dict[str, Any] = bill["cdrs"][0]
    assert cdr["station_id"] == station_id
    return cdr


# --- what the public may do when -----------------------------------------------------------------


async def test_station_access_answers_for_a_given_time(csms: Running, api: Api) -> None:
    """public_may_charge and next_change at chosen instants, for shared, public and private."""
    await shared_unit(api, "SH-1")
    cases = [
        (WED_10, False, "2026-11-25T10:00:00Z"),  # opens at 18:00
        ("2026-11-25T19:00:00+08:00", True, THU_08),  # the same instant as WED_19
        ("2026-11-27T11:00:00Z", True, "2026-11-29T16:00:00Z"),  # Fri 19:00 to Sunday 24:00
        ("2026-10-01T02:00:00Z", True, "2026-10-08T00:00:00Z"),  # 国庆节 open until Oct 8 08:00
        ("2026-10-10T02:00:00Z", False, "2026-10-10T10:00:00Z"),  # Saturday worked (调休)
    ]
    for at, open_now, change in cases:
        answer = await access_at(api, "SH-1", at)
        assert (answer["public_may_charge"], utc(answer["next_change"])) == (
            open_now,
            utc(change),
        ), at
        assert answer["access_mode"] == "shared" and answer["unit_id"] == UNIT
        assert answer["unit_name"] == UNIT_NAME and answer["members_may_charge"] is True
        assert answer["schedule_id"] is not None

    await ok(api.post("/api/v1/stations", json={"id": "PUB-1"}), 201)
    public = await access_at(api, "PUB-1", WED_10)
    assert public["public_may_charge"] is True and public["next_change"] is None
    assert public["access_mode"] == "public"
    await ok(api.post("/api/v1/stations", json={"id": "PRIV-1"}), 201)
    await ok(
        api.put("/api/v1/stations/PRIV-1/access", json={"access_mode": "private", "unit_id": UNIT})
    )
    private = await access_at(api, "PRIV-1", WED_19)
    assert private["public_may_charge"] is False and private["members_may_charge"] is True

    unknown = await api.get("/api/v1/stations/NOPE/access", params={"at": WED_10})
    assert unknown.status_code == 404, unknown.text
    naive = await api.get("/api/v1/stations/SH-1/access", params={"at": "2026-11-25T10:00:00"})
    assert naive.status_code == 422, naive.text


@VERSIONS
async def test_public_refused_at_10_accepted_at_19_members_always(
    csms: Running, api: Api, version: str
) -> None:
    """A start is judged at its own timestamp; the refusal is logged with its reason."""
    await shared_unit(api, "GOV-1")
    async with station(csms, "GOV-1", version) as cp:
        morning = await cp.start(PUBLIC, WED_10)
        assert morning.status == refused(version)
        await cp.stop(morning, WED_10)
        for member in (STAFF, GROUP_STAFF):
            session = await cp.start(member, WED_10)
            assert session.status == "Accepted", member
            await cp.stop(session, WED_10)
        evening = await cp.start(PUBLIC, WED_19)
        assert evening.status == "Accepted"
        await cp.stop(evening, WED_20)
        member = await cp.start(STAFF, WED_19)
        assert member.status == "Accepted"
        await cp.stop(member, WED_20)

    rows = await ok(api.get("/api/v1/access-decisions", params={"unit_id": UNIT}))
    assert [(r["id_token"], r["context"], r["allowed"]) for r in rows] == [
        (PUBLIC, start_context(version), False)
    ]
    assert rows[0]["station_id"] == "GOV-1"
    assert rows[0]["reason"] == (
        f"shared station of {UNIT_NAME} is reserved for its members now; "
        "opens to the public at 2026-11-25T10:00:00+00:00"
    )
    if version == "2.0.1":  # (a 1.6 start is judged before it has a transaction id)
        assert rows[0]["transaction_id"] == await transaction_pk(api, "GOV-1", morning)


@VERSIONS
async def test_authorize_and_remote_start_are_judged_now(
    csms: Running, api: Api, version: str
) -> None:
    """Today closed by a dated exception: the public is refused at Authorize and remote start
    (409, nothing sent), members are not; today open: the public is accepted."""
    await not_at_midnight()
    today = local_today().isoformat()
    await shared_unit(
        api,
        "NOW-1",
        windows=ALL_DAYS,
        exceptions=[{"date": today, "kind": "closed", "note": "运动会"}],
    )
    async with station(csms, "NOW-1", version) as cp:
        assert await cp.authorize(PUBLIC) == refused(version)
        assert await cp.authorize(STAFF) == "Accepted"
        remote = await api.post(
            "/api/v1/stations/NOW-1/commands/remote-start", json={"id_token": PUBLIC, "evse_id": 1}
        )
        assert remote.status_code == 409, remote.text
        assert "NotAtThisTime" in remote.json()["detail"]
        await ok(
            api.post(
                "/api/v1/stations/NOW-1/commands/remote-start",
                json={"id_token": STAFF, "evse_id": 1},
            )
        )
        start_action = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
        starts = cp.sent(start_action)
        assert len(starts) == 1
        assert STAFF in json.dumps(starts[0]) and PUBLIC not in json.dumps(starts[0])

        rows = await ok(api.get("/api/v1/access-decisions", params={"station_id": "NOW-1"}))
        assert [(r["id_token"], r["context"]) for r in rows] == [
            (PUBLIC, "remote-start"),
            (PUBLIC, "Authorize"),
        ]
        assert all(
            r["reason"].startswith(f"shared station of {UNIT_NAME} is reserved") for r in rows
        )

        (old,) = await ok(api.get(f"/api/v1/units/{UNIT}/schedules"))
        deleted = await api.delete(f"/api/v1/units/{UNIT}/schedules/{old['id']}")
        assert deleted.status_code == 204, deleted.text
        await ok(
            api.post(
                f"/api/v1/units/{UNIT}/schedules",
                json={
                    "effective_from": "2024-01-01",
                    "windows": [],
                    "exceptions": [{"date": today, "kind": "open"}],
                },
            ),
            201,
        )
        assert await cp.authorize(PUBLIC) == "Accepted"
    assert len(await decisions(api, "NOW-1")) == 2


# --- stations configured so their cache and list cannot let the public in ----------------------


@VERSIONS
async def test_shared_station_is_configured_after_boot(
    csms: Running, api: Api, version: str
) -> None:
    """Cache off, cache cleared, local list on, a full list of the members (by token and by
    group, nobody else); a public station gets none of it."""
    await shared_unit(api, "CFG-1")
    await ok(api.post("/api/v1/stations", json={"id": "CFG-PUB"}), 201)
    async with station(csms, "CFG-PUB", version) as public, station(csms, "CFG-1", version) as cp:
        await cp.wait_for("SendLocalList")
        await asyncio.sleep(0.2)
    actions = [name for name, _ in cp.received]
    if version == "1.6":
        assert actions == [
            "ChangeConfiguration",
            "ClearCache",
            "ChangeConfiguration",
            "SendLocalList",
        ]
        assert cp.sent("ChangeConfiguration") == [
            {"key": "AuthorizationCacheEnabled", "value": "false"},
            {"key": "LocalAuthListEnabled", "value": "true"},
        ]
        (local_list,) = cp.sent("SendLocalList")
        assert local_list["updateType"] == "Full" and local_list["listVersion"] > 0
        assert local_list["localAuthorizationList"] == [
            {"idTag": STAFF, "idTagInfo": {"status": "Accepted"}},
            {"idTag": GROUP_STAFF, "idTagInfo": {"status": "Accepted", "parentIdTag": GROUP}},
        ]
    else:
        assert actions == ["SetVariables", "ClearCache", "SetVariables", "SendLocalList"]
        assert cp.sent("SetVariables") == [
            {
                "setVariableData": [
                    {
                        "attributeValue": value,
                        "component": {"name": component},
                        "variable": {"name": "Enabled"},
                    }
                ]
            }
            for component, value in (("AuthCacheCtrlr", "false"), ("LocalAuthListCtrlr", "true"))
        ]
        (local_list,) = cp.sent("SendLocalList")
        assert local_list["updateType"] == "Full" and local_list["versionNumber"] > 0
        assert local_list["localAuthorizationList"] == [
            {
                "idToken": {"idToken": STAFF, "type": "ISO14443"},
                "idTokenInfo": {"status": "Accepted"},
            },
            {
                "idToken": {"idToken": GROUP_STAFF, "type": "ISO14443"},
                "idTokenInfo": {
                    "status": "Accepted",
                    "groupIdToken": {"idToken": GROUP, "type": "Central"},
                },
            },
        ]
    assert public.received == []


async def test_new_members_reach_a_connected_station(csms: Running, api: Api) -> None:
    """Replacing the members sends the connected shared station its new full list."""
    await shared_unit(api, "MEM-1")
    await ok(api.post("/api/v1/tokens", json={"id_token": "NEW-1"}), 201)
    async with station(csms, "MEM-1", "1.6") as cp:
        await cp.wait_for("SendLocalList")
        await ok(
            api.put(
                f"/api/v1/units/{UNIT}/members",
                json={"members": [{"kind": "token", "value": "NEW-1"}]},
            )
        )
        lists = await cp.wait_for("SendLocalList", count=2)
        assert [e["idTag"] for e in lists[1]["localAuthorizationList"]] == ["NEW-1"]
        assert lists[1]["updateType"] == "Full"
        # still a valid token, as the public: asked when the station is open to the public
        with running_from(datetime.fromisoformat(SUN_10)):
            assert await cp.authorize(STAFF) == "Accepted"
        assert (await cp.start(STAFF, WED_10)).status == "Invalid"  # no longer a member


# --- the enforcer: backstop and window-close policies ----------------------------------------


@VERSIONS
async def test_cached_token_start_outside_window_is_stopped(
    fast: tuple[Running, Api], version: str
) -> None:
    """A public session the station started itself at 10:00 on a working day (a cached token)
    is refused and then stopped by the CSMS, once; a member's session beside it is left alone."""
    csms, api = fast
    await shared_unit(api, "BACK-1")
    async with station(csms, "BACK-1", version) as cp:
        public = await cp.start(PUBLIC, WED_10, connector=1)
        member = await cp.start(STAFF, WED_10, connector=2)
        assert (public.status, member.status) == (refused(version), "Accepted")
        stops = await cp.wait_for(stop_action(version))
        await asyncio.sleep(4 * FAST)
        assert cp.sent(stop_action(version)) == stops == [{"transactionId": public.tx}]
        pk = await transaction_pk(api, "BACK-1", public)

    rows = await ok(api.get("/api/v1/access-decisions", params={"station_id": "BACK-1"}))
    # The enforcer may act between the 2.0.1 event being stored and its start decision being
    # logged (both at the station's 10:00), so the two may be listed in either order.
    assert sorted((r["id_token"], r["context"]) for r in rows) == sorted(
        [(PUBLIC, "backstop-stop"), (PUBLIC, start_context(version))]
    )
    [stop] = [r for r in rows if r["context"] == "backstop-stop"]
    assert stop["transaction_id"] == pk
    assert stop["reason"].startswith(
        f"started outside access: shared station of {UNIT_NAME} is reserved for its members now"
    )
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    report = await ok(api.get(f"/api/v1/units/{UNIT}/report", params={"month": month}))
    assert report["refused_starts"] == 1  # the start; the stop that followed is not another


async def test_v201_session_begun_on_plug_in_is_judged_when_its_token_arrives(
    fast: tuple[Running, Api],
) -> None:
    """A 2.0.1 transaction may begin before its token (cable plugged in first): the enforcer
    leaves it alone until then; a member who badges later charges as a member, the public at
    10:00 on a working day is refused and stopped."""
    csms, api = fast
    await shared_unit(api, "PLUG-1")
    await tariffs_by_class(api)
    async with station(csms, "PLUG-1", "2.0.1") as cs:
        member = await cs.plug_in(WED_10, connector=1, wh=1000)
        public = await cs.plug_in(WED_10, connector=2)
        await asyncio.sleep(4 * FAST)  # several enforcement rounds before the tokens
        assert cs.sent("RequestStopTransaction") == []
        assert await cs.badge(member, STAFF, WED_10) == "Accepted"
        assert await cs.badge(public, PUBLIC, WED_10) == "NotAtThisTime"
        await cs.wait_for("RequestStopTransaction")
        await asyncio.sleep(3 * FAST)
        assert cs.sent("RequestStopTransaction") == [{"transactionId": public.tx}]
        await cs.stop(member, "2026-11-25T03:00:00Z", 6000)
    cdr = await cdr_of(api, "PLUG-1", await transaction_pk(api, "PLUG-1", member))
    assert (cdr["detail"]["price_class"], cdr["tariff"]["id"], cdr["total"]) == (
        "member",
        "at-cost",
        "2.00",
    )
    assert await decisions(api, "PLUG-1") == [
        (PUBLIC, "backstop-stop", False),
        (PUBLIC, "TransactionEvent", False),
    ]


@VERSIONS
async def test_window_close_stops_public_sessions_under_stop_policy(
    fast: tuple[Running, Api], version: str
) -> None:
    """Started Wednesday 19:00, the window closed Thursday 08:00: with close_policy stop and no
    grace the public session is stopped (2.0.1 first shows the close message); members are not."""
    csms, api = fast
    await shared_unit(api, "CLOSE-1", close_policy="stop")
    async with station(csms, "CLOSE-1", version) as cp:
        public = await cp.start(PUBLIC, WED_19, connector=1)
        member = await cp.start(STAFF, WED_19, connector=2)
        assert (public.status, member.status) == ("Accepted", "Accepted")
        await cp.wait_for(stop_action(version))
        await asyncio.sleep(4 * FAST)
        assert cp.sent(stop_action(version)) == [{"transactionId": public.tx}]
        if version == "2.0.1":
            (display,) = cp.sent("SetDisplayMessage")
            message = display["message"]
            assert message["message"]["content"] == CLOSE_MESSAGE
            assert message["transactionId"] == public.tx
            assert utc(message["endDateTime"]) == utc(THU_08)
            actions = [name for name, _ in cp.received]
            assert actions.index("SetDisplayMessage") < actions.index("RequestStopTransaction")
        else:
            assert cp.sent("SetDisplayMessage") == []
        pk = await transaction_pk(api, "CLOSE-1", public)

    rows = await ok(api.get("/api/v1/access-decisions", params={"station_id": "CLOSE-1"}))
    assert [(r["id_token"], r["context"], r["allowed"], r["transaction_id"]) for r in rows] == [
        (PUBLIC, "window-close-stop", False, pk)
    ]
    assert rows[0]["reason"] == "opening window closed at 2026-11-26T00:00:00+00:00"
    month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
    report = await ok(api.get(f"/api/v1/units/{UNIT}/report", params={"month": month}))
    assert report["refused_starts"] == 0  # a stop at the window's close refused no start


@VERSIONS
async def test_window_close_lets_public_sessions_finish_under_finish_policy(
    fast: tuple[Running, Api], version: str
) -> None:
    """The same session under close_policy finish: nothing is shown, stopped or logged."""
    csms, api = fast
    await shared_unit(api, "FIN-1", close_policy="finish")
    async with station(csms, "FIN-1", version) as cp:
        public = await cp.start(PUBLIC, WED_19)
        assert public.status == "Accepted"
        await asyncio.sleep(5 * FAST)  # several enforcement rounds
        assert cp.sent(stop_action(version)) == []
        assert cp.sent("SetDisplayMessage") == []
        await cp.stop(public, WED_20)
    assert await decisions(api, "FIN-1") == []


# --- calendar, prices, report ------------------------------------------------------------------


async def test_calendar_replaced_holiday_opens_shared_station_all_day(database_url: str) -> None:
    """A bad calendar is refused and changes nothing; a good one is in force at once (a
    holiday opens the shared station all day, a worked Saturday follows a weekday) and is kept
    across a restart."""
    document = {
        "name": "test calendar",
        "holidays": [{"name": "测试假日", "from": "2026-11-25", "to": "2026-11-25"}],
        "adjusted_workdays": ["2026-11-28"],
        "sources": ["测试通知〔2026〕1号, 2026-11-01"],  # kept: where the dates came from
    }
    bad_documents: list[Any] = [
        {"sources": "国办发明电"},
        {"sources": [5]},
        {"sources": [""]},
        {"sources": ["x" * 201]},
        {"holidays": [{"name": "x", "from": "2026-11-25", "to": "2026-11-24"}]},
        {"holidays": [{"name": "x", "from": "2026/11/25", "to": "2026-11-25"}]},
        {"holidays": [{"name": "x"}]},
        {"holidays": [{"from": "2026-01-01", "to": "2026-03-01"}]},
        {
            "holidays": [
                {"from": "2026-11-25", "to": "2026-11-26"},
                {"from": "2026-11-26", "to": "2026-11-26"},
            ]
        },
        {"adjusted_workdays": ["2026-11-25"]},
        {
            "adjusted_workdays": ["2026-11-28"],
            "holidays": [{"from": "2026-11-28", "to": "2026-11-28"}],
        },
        {"holidays": 5},
        {"adjusted_workdays": "2026-11-28"},
        ["2026-11-25"],
    ]
    async with running(make_settings(database_url)) as csms, api_of(csms) as api:
        shipped = await ok(api.get("/api/v1/calendar"))
        assert {"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07"} in shipped["holidays"]
        assert len(shipped["sources"]) == 3  # the State Council notices it was copied from
        await shared_unit(api, "CAL-1")
        assert (await access_at(api, "CAL-1", WED_10))["public_may_charge"] is False
        for bad in bad_documents:
            refused_put = await api.put("/api/v1/calendar", json=bad)
            assert refused_put.status_code == 422, (bad, refused_put.text)
        assert await ok(api.get("/api/v1/calendar")) == shipped

        shown = {**document, "covers_years": [2026, 2026]}
        assert await ok(api.put("/api/v1/calendar", json=document)) == shown
        assert await ok(api.get("/api/v1/calendar")) == shown
        wednesday = await access_at(api, "CAL-1", WED_10)
        assert wednesday["public_may_charge"] is True  # a holiday: open all day
        assert utc(wednesday["next_change"]) == utc(THU_08)  # and its evening window after
        saturday = await access_at(api, "CAL-1", "2026-11-28T02:00:00Z")
        assert saturday["public_may_charge"] is False  # worked: Monday's windows
        assert utc(saturday["next_change"]) == utc("2026-11-28T10:00:00Z")
        async with station(csms, "CAL-1", "1.6") as cp:
            assert (await cp.start(PUBLIC, WED_10)).status == "Accepted"
    async with running(make_settings(database_url)) as again, api_of(again) as api:
        assert await ok(api.get("/api/v1/calendar")) == shown
        assert (await access_at(api, "CAL-1", WED_10))["public_may_charge"] is True


@VERSIONS
async def test_members_and_public_pay_their_own_tariffs(
    csms: Running, api: Api, version: str
) -> None:
    """The same station, the same evening, 5 kWh each: the member pays the unit's at-cost
    tariff, the public the published one, and each CDR says which applied and why."""
    await shared_unit(api, "PRICE-1")
    await tariffs_by_class(api)
    assignments = await ok(api.get("/api/v1/tariff-assignments"))
    assert {(a["tariff_id"], a["audience"]) for a in assignments} == {
        ("published", "all"),
        ("at-cost", "member"),
    }
    async with station(csms, "PRICE-1", version) as cp:
        member = await cp.start(STAFF, WED_19, connector=1, wh=1000)
        public = await cp.start(PUBLIC, WED_19, connector=2, wh=2000)
        await cp.stop(member, WED_20, 6000)
        await cp.stop(public, WED_20, 7000)

    member_cdr = await cdr_of(api, "PRICE-1", await transaction_pk(api, "PRICE-1", member))
    public_cdr = await cdr_of(api, "PRICE-1", await transaction_pk(api, "PRICE-1", public))
    assert member_cdr["tariff"] == {"id": "at-cost", "version": 1}
    assert (member_cdr["energy_wh"], member_cdr["total"]) == (5000, "2.00")
    assert member_cdr["detail"]["price_class"] == "member"
    assert member_cdr["detail"]["price_basis"] == (
        f"member price (member of {UNIT_NAME}); tariff at-cost v1"
    )
    assert public_cdr["tariff"] == {"id": "published", "version": 1}
    assert (public_cdr["energy_wh"], public_cdr["total"]) == (5000, "5.00")
    assert public_cdr["detail"]["price_class"] == "public"
    assert public_cdr["detail"]["price_basis"] == (
        f"public price (shared station of {UNIT_NAME}: open to the public); tariff published v1"
    )
    assert member_cdr["owner_unit"] == public_cdr["owner_unit"] == UNIT


async def test_unit_report_for_a_month(csms: Running, api: Api) -> None:
    """This month: sessions by class, kWh and revenue as the CDRs say, refused starts.
    September 2026: the public hours of the shared station, counted by hand."""
    await not_at_midnight()
    now = utcnow().replace(microsecond=0)
    midnight = datetime.combine(local_today(), datetime.min.time(), SHANGHAI).astimezone(UTC)
    t0 = max(now - timedelta(minutes=10), midnight)  # every timestamp today, this month

    def at(seconds: int) -> str:
        return isoformat(t0 + timedelta(seconds=seconds))

    today = {"date": local_today().isoformat(), "kind": "open", "note": "开放日"}
    await shared_unit(api, "REP-1", "REP-2", exceptions=[today])
    await ok(
        api.post(
            f"/api/v1/units/{UNIT}/schedules",
            json={
                "station_id": "REP-2",
                "effective_from": "2024-01-01",
                "windows": [],
                "holidays_open": False,
            },
        ),
        201,
    )
    await ok(api.post("/api/v1/stations", json={"id": "REP-3"}), 201)
    await ok(
        api.put("/api/v1/stations/REP-3/access", json={"access_mode": "private", "unit_id": UNIT})
    )
    await tariffs_by_class(api)

    async with station(csms, "REP-1", "1.6") as cp, station(csms, "REP-2", "2.0.1") as cs:
        # (token, seconds after t0, register at start and at stop): 2 kWh, 3 kWh, 1.5 kWh,
        # each 3 minutes long; a session counts when over 2 minutes and 0.5 kWh (the fourth,
        # 0.4 kWh, is billed but not counted as a session)
        for token, offset, first, last in (
            (STAFF, 0, 0, 2000),
            (PUBLIC, 190, 10_000, 13_000),
            (PUBLIC, 380, 20_000, 21_500),
        ):
            session = await cp.start(token, at(offset), wh=first)
            assert session.status == "Accepted", token
            await cp.stop(session, at(offset + 180), last)
        session = await cs.start(GROUP_STAFF, at(0), wh=5000)
        await cs.stop(session, at(180), 6000)
        session = await cs.start(GROUP_STAFF, at(200), wh=6000)
        await cs.stop(session, at(400), 6400)
        assert await cs.authorize(PUBLIC) == "NotAtThisTime"  # REP-2 is never open
        assert await cs.authorize(PUBLIC) == "NotAtThisTime"

    month = t0.astimezone(SHANGHAI).strftime("%Y-%m")
    report = await ok(api.get(f"/api/v1/units/{UNIT}/report", params={"month": month}))
    assert (report["unit_id"], report["unit_name"], report["month"]) == (UNIT, UNIT_NAME, month)
    assert report["members"] == {"billed_sessions": 3, "energy_kwh": "3.400", "revenue": "1.36"}
    assert report["public"] == {"billed_sessions": 2, "energy_kwh": "4.500", "revenue": "4.50"}
    assert report["sessions"] == {"public": 2, "member": 2}
    assert report["refused_starts"] == 2
    cdrs = await ok(api.get("/api/v1/cdrs"))
    assert sum(Decimal(c["total"]) for c in cdrs) == Decimal("1.36") + Decimal("4.50")

    # September 2026 at REP-1 (mon-fri 18:00-08:00, weekends all day, holidays all day), hours:
    # Tue 1-Fri 4 14 each (Monday Aug 31's window runs into Sept 1) = 56; Sat 5, Sun 6 = 48;
    # Mon 7 6 (no spill from an all-day Sunday); Tue 8-Fri 11 = 56; Sat 12, Sun 13 = 48;
    # Mon 14 6; Tue 15-Fri 18 = 56; Sat 19 24; Sun 20 worked (调休) 6; Mon 21-Thu 24 = 56;
    # 中秋节 Fri 25-Sun 27 = 72; Mon 28 6; Tue 29, Wed 30 = 28. Total 468.
    september = await ok(api.get(f"/api/v1/units/{UNIT}/report", params={"month": "2026-09"}))
    assert september["stations"] == [
        {"station_id": "REP-1", "access_mode": "shared", "public_hours_open": "468.00"},
        {"station_id": "REP-2", "access_mode": "shared", "public_hours_open": "0.00"},
        {"station_id": "REP-3", "access_mode": "private", "public_hours_open": "0.00"},
    ]
    assert september["public_hours_open"] == "468.00"
    assert september["sessions"] == {"public": 0, "member": 0}
    assert september["refused_starts"] == 0
    assert september["members"] == {"billed_sessions": 0, "energy_kwh": "0.000", "revenue": "0.00"}

    now_local = utcnow().astimezone(SHANGHAI)
    following = date(now_local.year + now_local.month // 12, now_local.month % 12 + 1, 1)
    for bad_month in ("2026-13", "2026-9", following.strftime("%Y-%m")):
        response = await api.get(f"/api/v1/units/{UNIT}/report", params={"month": bad_month})
        assert response.status_code == 422, (bad_month, response.text)
    missing = await api.get("/api/v1/units/nope/report", params={"month": "2026-09"})
    assert missing.status_code == 404, missing.text


# --- bad input: 422 (or 409), nothing stored --------------------------------------------------


async def test_bad_schedules_are_refused_and_nothing_stored(csms: Running, api: Api) -> None:
    """Overlapping or malformed windows, bad exceptions, dates, zones, unknown or foreign
    stations: 422 naming the problem, and the unit still has no schedule."""
    await add_tokens(api)
    for station_id in ("BAD-1", "OTHER-1"):
        await ok(api.post("/api/v1/stations", json={"id": station_id}), 201)
    for unit_id in (UNIT, "other"):
        await ok(
            api.post("/api/v1/units", json={"unit_id": unit_id, "name": unit_id, "kind": "school"}),
            201,
        )
    await ok(
        api.put("/api/v1/stations/BAD-1/access", json={"access_mode": "shared", "unit_id": UNIT})
    )
    await ok(
        api.put(
            "/api/v1/stations/OTHER-1/access", json={"access_mode": "shared", "unit_id": "other"}
        )
    )

    def window(days: list[str], start: str, end: str) -> dict[str, Any]:
        return {"days": days, "start": start, "end": end}

    cases: list[tuple[dict[str, Any], str]] = [
        ({"windows": [*EVENINGS, window(["fri"], "20:00", "23:00")]}, "overlap"),
        (
            {"windows": [window(["mon"], "22:00", "02:00"), window(["mon"], "23:00", "23:30")]},
            "overlap",
        ),
        ({"windows": [window(["mon"], "8:00", "18:00")]}, "start"),
        ({"windows": [window(["mon"], "08:00", "18:60")]}, "end"),
        ({"windows": [window(["mon"], "08:00", "24:30")]}, "24:30"),
        ({"windows": [window(["mon"], "24:00", "08:00")]}, "24:00"),
        ({"windows": [window(["mon"], "08:00", "08:00")]}, "empty"),
        ({"windows": [window(["monday"], "08:00", "18:00")]}, "days"),
        ({"windows": [window([], "08:00", "18:00")]}, "days"),
        ({"exceptions": [{"date": "2026-12-12", "kind": "windows"}]}, "2026-12-12"),
        (
            {
                "exceptions": [
                    {"date": "2026-12-12", "kind": "open"},
                    {"date": "2026-12-12", "kind": "closed"},
                ]
            },
            "twice",
        ),
        (
            {
                "exceptions": [
                    {
                        "date": "2026-12-12",
                        "kind": "open",
                        "windows": [{"start": "08:00", "end": "09:00"}],
                    }
                ]
            },
            "only go with kind",
        ),
        (
            {
                "exceptions": [
                    {
                        "date": "2026-12-12",
                        "kind": "windows",
                        "windows": [
                            {"start": "08:00", "end": "12:00"},
                            {"start": "11:00", "end": "13:00"},
                        ],
                    }
                ]
            },
            "overlap",
        ),
        ({"exceptions": [{"date": "2026-13-01", "kind": "open"}]}, "date"),
        ({"effective_from": "2026-12-01", "effective_to": "2026-11-30"}, "effective_to"),
        ({"time_zone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"workday_pattern": "sat"}, "workday_pattern"),
        ({"window": EVENINGS}, "window"),
        ({"station_id": "NOPE"}, "NOPE"),
        ({"station_id": "OTHER-1"}, "not owned"),
    ]
    for change, words in cases:
        body = {"effective_from": "2024-01-01", "windows": EVENINGS, **change}
        response = await api.post(f"/api/v1/units/{UNIT}/schedules", json=body)
        assert response.status_code == 422, (change, response.text)
        assert words in response.text, (change, response.text)
    assert await ok(api.get(f"/api/v1/units/{UNIT}/schedules")) == []
    assert (await access_at(api, "BAD-1", WED_19))["reason"] == "no schedule in force"

    unknown = await api.post(
        "/api/v1/units/nope/schedules", json={"effective_from": "2024-01-01", "windows": EVENINGS}
    )
    assert unknown.status_code == 404, unknown.text
    assert [u["unit_id"] for u in await ok(api.get("/api/v1/units"))] == [UNIT, "other"]


async def test_overlapping_schedule_dates_conflict(csms: Running, api: Api) -> None:
    """A unit has one schedule in force a day (409 otherwise, nothing stored); a station's own
    schedule may sit beside it and wins."""
    await shared_unit(api, "DATES-1")  # the unit's schedule from 2024-01-01, open-ended
    for span in (
        {"effective_from": "2026-12-01"},
        {"effective_from": "2020-01-01", "effective_to": "2024-01-01"},
    ):
        clash = await api.post(
            f"/api/v1/units/{UNIT}/schedules", json={**span, "windows": ALL_DAYS}
        )
        assert clash.status_code == 409, clash.text
    earlier = await api.post(
        f"/api/v1/units/{UNIT}/schedules",
        json={"effective_from": "2020-01-01", "effective_to": "2023-12-31", "windows": ALL_DAYS},
    )
    assert earlier.status_code == 201, earlier.text
    own = {"station_id": "DATES-1", "effective_from": "2026-01-01", "windows": ALL_DAYS}
    await ok(api.post(f"/api/v1/units/{UNIT}/schedules", json=own), 201)
    again = await api.post(
        f"/api/v1/units/{UNIT}/schedules", json={**own, "effective_from": "2026-06-01"}
    )
    assert again.status_code == 409, again.text
    assert len(await ok(api.get(f"/api/v1/units/{UNIT}/schedules"))) == 3
    assert (await access_at(api, "DATES-1", WED_10))["public_may_charge"] is True  # its own


async def test_bad_units_and_access_settings_are_refused_and_nothing_stored(
    csms: Running, api: Api
) -> None:
    """A private or shared station needs an existing owner unit; unknown stations and units,
    bad kinds and ids are 422 (a second unit of the same id 409), and nothing changes."""
    await ok(api.post("/api/v1/stations", json={"id": "ACC-1"}), 201)
    await ok(
        api.post("/api/v1/units", json={"unit_id": UNIT, "name": UNIT_NAME, "kind": "government"}),
        201,
    )
    bad_access: list[tuple[str, dict[str, Any]]] = [
        ("ACC-1", {"access_mode": "private"}),
        ("ACC-1", {"access_mode": "shared"}),
        ("ACC-1", {"access_mode": "shared", "unit_id": "nope"}),
        ("ACC-1", {"access_mode": "shared", "unit_id": "bad id!"}),
        ("ACC-1", {"access_mode": "members", "unit_id": UNIT}),
        ("NOPE", {"access_mode": "shared", "unit_id": UNIT}),
    ]
    for station_id, body in bad_access:
        response = await api.put(f"/api/v1/stations/{station_id}/access", json=body)
        assert response.status_code == 422, (station_id, body, response.text)
    answer = await access_at(api, "ACC-1", WED_10)
    assert (answer["access_mode"], answer["unit_id"]) == ("public", None)

    bad_units: list[dict[str, Any]] = [
        {"unit_id": "a b", "name": "x", "kind": "school"},
        {"unit_id": "u2", "name": "x", "kind": "army"},
        {"unit_id": "u2", "name": "", "kind": "school"},
        {"unit_id": "u2", "name": "x", "kind": "school", "close_policy": "kill"},
        {"unit_id": "u2", "name": "x", "kind": "school", "close_grace_minutes": -1},
        {
            "unit_id": "u2",
            "name": "x",
            "kind": "school",
            "members": [{"kind": "card", "value": "A"}],
        },
    ]
    for body in bad_units:
        response = await api.post("/api/v1/units", json=body)
        assert response.status_code == 422, (body, response.text)
    duplicate = await api.post(
        "/api/v1/units", json={"unit_id": UNIT, "name": "again", "kind": "school"}
    )
    assert duplicate.status_code == 409, duplicate.text
    units = await ok(api.get("/api/v1/units"))
    assert [(u["unit_id"], u["name"]) for u in units] == [(UNIT, UNIT_NAME)]
