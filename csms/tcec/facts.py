"""Registry rows -> the sites, piles and connectors a platform knows (pure)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from csms.tcec.codes import status_code
from csms.tcec.messages import (
    ConnectorFacts,
    PileFacts,
    SiteFacts,
    connector_code,
    dumps,
    station_code,
)

# Administrative states of a pile out of use: a site none of whose piles is in use is closed.
_OUT_OF_USE = frozenset({"blocked", "decommissioned"})


def sites(
    piles: Sequence[Mapping[str, Any]],
    equipment: Iterable[Mapping[str, Any]],
    connectors: Iterable[Mapping[str, Any]],
) -> list[SiteFacts]:
    """Group piles by site (a pile without a site is a site of its own).

    A pile's connectors are its registered equipment (power, AC/DC); a pile with none
    registered lists the connectors it reported, whose power and current stay unknown.
    """
    registered: dict[str, list[ConnectorFacts]] = defaultdict(list)
    for e in equipment:
        registered[e["station_id"]].append(
            ConnectorFacts(e["connector_no"], 1, Decimal(e["power_kw"]), e["current"])
        )
    seen: dict[str, list[ConnectorFacts]] = defaultdict(list)
    for c in connectors:
        seen[c["station_id"]].append(ConnectorFacts(c["evse_id"], c["connector_id"], None, None))
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for pile in piles:
        key = ("site", pile["site_name"]) if pile["site_name"] else ("pile", pile["id"])
        groups.setdefault(key, []).append(pile)
    out: list[SiteFacts] = []
    for members in groups.values():
        first = members[0]
        address = next((p["address"] for p in members if p["address"]), None)
        county = next((p["county"] for p in members if p["county"]), None)
        out.append(
            SiteFacts(
                site_name=first["site_name"],
                county=county,
                address=address,
                latitude=None,
                longitude=None,
                category=first["category"],
                parking_spaces=first["parking_spaces"],
                access_mode="shared"
                if any(p["access_mode"] == "shared" for p in members)
                else "public",
                open_=any(p["admin_state"] not in _OUT_OF_USE for p in members),
                piles=tuple(
                    PileFacts(
                        station_id=p["id"],
                        vendor=p["vendor"],
                        model=p["model"],
                        rated_power_kw=None
                        if p["rated_power_kw"] is None
                        else Decimal(p["rated_power_kw"]),
                        commissioned_on=p["commissioned_on"],
                        latitude=p["latitude"],
                        longitude=p["longitude"],
                        connectors=tuple(registered.get(p["id"]) or seen.get(p["id"]) or ()),
                        voltage_max_v=p.get("rated_voltage_max_v"),
                        voltage_min_v=p.get("rated_voltage_min_v"),
                        current_a=p.get("rated_current_a"),
                    )
                    for p in members
                ),
            )
        )
    return out


def site_code(site: SiteFacts) -> str:
    return station_code(site.site_name, site.piles[0].station_id)


def digest(site: SiteFacts) -> str:
    """A fingerprint of what the platform is told about a site: a change is pushed once."""
    return hashlib.sha256(dumps(site_data(site)).encode()).hexdigest()


def site_data(site: SiteFacts) -> dict[str, Any]:
    """The site as our own JSON (the outbox keeps facts; rendering happens per platform)."""
    return {
        "site_name": site.site_name,
        "county": site.county,
        "address": site.address,
        "category": site.category,
        "parking_spaces": site.parking_spaces,
        "access_mode": site.access_mode,
        "open": site.open_,
        "piles": [
            {
                "station_id": p.station_id,
                "vendor": p.vendor,
                "model": p.model,
                "rated_power_kw": None if p.rated_power_kw is None else str(p.rated_power_kw),
                "commissioned_on": None
                if p.commissioned_on is None
                else p.commissioned_on.isoformat(),
                # as text: our JSON writer refuses floats (coordinates are no money, but one
                # writer for all keeps it simple)
                "latitude": None if p.latitude is None else repr(p.latitude),
                "longitude": None if p.longitude is None else repr(p.longitude),
                "connectors": [
                    [
                        c.evse_id,
                        c.connector_id,
                        None if c.power_kw is None else str(c.power_kw),
                        c.current,
                    ]
                    for c in p.connectors
                ],
                "limits": [p.voltage_max_v, p.voltage_min_v, p.current_a],
            }
            for p in site.piles
        ],
    }


def site_from_data(data: Mapping[str, Any]) -> SiteFacts:
    return SiteFacts(
        site_name=data["site_name"],
        county=data["county"],
        address=data["address"],
        latitude=None,
        longitude=None,
        category=data["category"],
        parking_spaces=data["parking_spaces"],
        access_mode=data["access_mode"],
        open_=data["open"],
        piles=tuple(_pile_from_data(p) for p in data["piles"]),
    )


def _pile_from_data(p: Mapping[str, Any]) -> PileFacts:
    # records queued before the registry kept limits carry none
    voltage_max, voltage_min, current = p.get("limits") or (None, None, None)
    return PileFacts(
        station_id=p["station_id"],
        vendor=p["vendor"],
        model=p["model"],
        rated_power_kw=None if p["rated_power_kw"] is None else Decimal(p["rated_power_kw"]),
        commissioned_on=None
        if p["commissioned_on"] is None
        else date.fromisoformat(p["commissioned_on"]),
        latitude=None if p["latitude"] is None else float(p["latitude"]),
        longitude=None if p["longitude"] is None else float(p["longitude"]),
        connectors=tuple(
            ConnectorFacts(e, c, None if w is None else Decimal(w), cur)
            for e, c, w, cur in p["connectors"]
        ),
        voltage_max_v=voltage_max,
        voltage_min_v=voltage_min,
        current_a=current,
    )


def live_codes(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[int, int, int]]]:
    """Per station, (evse, connector, T/CEC code) of every reported connector now."""
    by_station: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        by_station[r["station_id"]].append(r)
    return {
        station_id: [(evse, conn, code) for evse, conn, code, _ in timed_codes(station_rows)]
        for station_id, station_rows in by_station.items()
    }


def timed_codes(rows: Iterable[Mapping[str, Any]]) -> list[tuple[int, int, int, datetime]]:
    """(evse, connector, code, since) of one station's connectors: since when the code holds
    (the status's receipt, or the disconnect for an offline station), so a resync never
    outdates a newer status."""
    out: list[tuple[int, int, int, datetime]] = []
    for r in rows:
        try:
            code = status_code(
                r["status"], connected=r["connected"], charging_state=r["charging_state"]
            )
        except ValueError:
            continue
        since = r["received_at"]
        if not r["connected"] and r["disconnected_at"] is not None:
            since = max(since, r["disconnected_at"])
        out.append((r["evse_id"], r["connector_id"], code, since))
    return out


def connector_status_infos(
    station_id: str, codes: Sequence[tuple[int, int, int]]
) -> list[dict[str, Any]]:
    return [
        {"ConnectorID": connector_code(station_id, evse, conn), "Status": code}
        for evse, conn, code in codes
    ]
