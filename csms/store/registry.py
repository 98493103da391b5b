"""The station registry's planning facts and equipment, reference places, EV counts and plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from csms.errors import InvalidInput, NotFound
from csms.monitoring.plan import Plan, canonical_county, default_plan_document, plan_from
from csms.monitoring.registry_csv import (
    Connector,
    CountyOf,
    Place,
    RegistryRow,
    RowError,
    RowsInvalid,
    decode,
    parse,
    parse_place_items,
    parse_places,
)
from csms.monitoring.registry_record import (
    RecordInvalid,
    changes,
    complete,
    from_json,
    merged,
)
from csms.store import audit
from csms.store.database import Pool

if TYPE_CHECKING:
    from csms.store.audit import Connection

DEFAULT_PLAN_ID = "shuozhou-2024-2025"
_PLAN_SUMMARY = """plan_id, document ->> 'plan' AS name, active, loaded_by, loaded_at"""


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    created: int
    updated: int
    # stations whose access mode or owner unit changed: connected ones need configuring again
    access_changed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, int]:
        return {"imported": self.imported, "created": self.created, "updated": self.updated}


class RegistryStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    # -- the registry ------------------------------------------------------------------------

    async def import_csv(
        self, data: bytes | str, *, by: str, at: datetime, dry_run: bool = False
    ) -> ImportResult:
        """Parse, check and store a registry CSV file: every row, or (RowsInvalid) none."""
        text = decode(data) if isinstance(data, bytes) else data
        rows, problems = parse(text, await self.county_of())
        if problems:
            raise RowsInvalid(problems)
        return await self.import_rows(rows, by=by, at=at, dry_run=dry_run)

    async def import_rows(
        self,
        rows: Sequence[RegistryRow],
        *,
        by: str,
        at: datetime,
        action: str = "registry.import",
        dry_run: bool = False,
    ) -> ImportResult:
        """Create or update the stations, their sites and their connectors in one transaction,
        each station's changes in the audit (`action`, by `by`).

        Rows come checked by `parse`; what only the database knows (the stored facts of
        columns a file left out; does a private or shared station's owner unit exist?) is
        settled here, and any problem stores nothing."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await _write(conn, rows, by=by, at=at, action=action, dry_run=dry_run)

    async def record(self, station_id: str) -> RegistryRow:
        """A station's registry record (NotFound)."""
        found = await _read(self._pool, [station_id])
        if not found:
            raise NotFound(f"station {station_id} does not exist")
        return found[0]

    async def put_record(
        self, station_id: str, facts: Mapping[str, Any], *, by: str, at: datetime
    ) -> ImportResult:
        """Set every registry fact of one station (creating it if new), as one CSV row would;
        RecordInvalid lists every problem, and nothing is stored."""
        row = from_json(station_id, facts, await self.county_of())
        try:
            return await self.import_rows([row], by=by, at=at, action="registry.put")
        except RowsInvalid as exc:  # the owner unit: said per field, like the other problems
            raise RecordInvalid(list(exc.rows)) from None

    async def patch_record(
        self, station_id: str, patch: Mapping[str, Any], *, by: str, at: datetime
    ) -> ImportResult:
        """Change the facts `patch` names of an existing station (NotFound); the record they
        make with the stored facts is checked whole (RecordInvalid), under the station's lock
        so two patches of one station cannot undo each other."""
        counties = await self.county_of()
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, [station_id])
            stored = await _read(conn, [station_id])
            if not stored:
                raise NotFound(f"station {station_id} does not exist")
            row = from_json(station_id, merged(stored[0], patch), counties)
            try:
                return await _write(
                    conn, [row], by=by, at=at, action="registry.patch", dry_run=False
                )
            except RowsInvalid as exc:
                raise RecordInvalid(list(exc.rows)) from None

    async def export_rows(self) -> list[RegistryRow]:
        """Every station's registry record, by station id."""
        return await _read(self._pool, None)

    async def location(self, station_id: str) -> dict[str, Any]:
        row = await self._pool.fetchrow(
            """SELECT id AS station_id, county, township, village, site_name, address,
                      latitude, longitude
               FROM stations WHERE id = $1""",
            station_id,
        )
        if row is None:
            raise NotFound(f"station {station_id} does not exist")
        return dict(row)

    # -- places ------------------------------------------------------------------------------

    async def import_places_data(
        self, data: bytes | str | list[Any], *, replace: bool = False, dry_run: bool = False
    ) -> dict[str, int]:
        """Places from CSV text or a JSON list: every one, or (RowsInvalid) none."""
        counties = await self.county_of()
        if isinstance(data, list):
            places, problems = parse_place_items(data, counties)
        else:
            text = decode(data) if isinstance(data, bytes) else data
            places, problems = parse_places(text, counties)
        if problems:
            raise RowsInvalid(problems)
        return await self.import_places(places, replace=replace, dry_run=dry_run)

    async def import_places(
        self, places: Sequence[Place], *, replace: bool = False, dry_run: bool = False
    ) -> dict[str, int]:
        """Create or update places by (kind, county, name) in one transaction; `replace`
        removes every place not in `places`."""
        kinds = [p.kind for p in places]
        counties = [p.county for p in places]
        names = [p.name for p in places]
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE places IN SHARE ROW EXCLUSIVE MODE")
            known = await conn.fetchval(
                """SELECT count(*) FROM places p
                   JOIN unnest($1::text[], $2::text[], $3::text[]) AS n(kind, county, name)
                     ON (p.kind, p.county, p.name) = (n.kind, n.county, n.name)""",
                kinds,
                counties,
                names,
            )
            total = await conn.fetchval("SELECT count(*) FROM places")
            removed = total - known if replace else 0
            result = {
                "imported": len(places),
                "created": len(places) - known,
                "updated": known,
                "removed": removed,
            }
            if dry_run:
                return result
            if replace:
                await conn.execute(
                    """DELETE FROM places p WHERE NOT EXISTS (
                           SELECT 1 FROM unnest($1::text[], $2::text[], $3::text[])
                               AS n(kind, county, name)
                           WHERE (p.kind, p.county, p.name) = (n.kind, n.county, n.name))""",
                    kinds,
                    counties,
                    names,
                )
            await conn.execute(
                """INSERT INTO places (kind, county, name, township, latitude, longitude,
                       small_car_spaces)
                   SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                       $5::float8[], $6::float8[], $7::int[])
                   ON CONFLICT (kind, county, name) DO UPDATE SET township = EXCLUDED.township,
                       latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
                       small_car_spaces = EXCLUDED.small_car_spaces""",
                kinds,
                counties,
                names,
                [p.township for p in places],
                [p.latitude for p in places],
                [p.longitude for p in places],
                [p.small_car_spaces for p in places],
            )
        return result

    async def places(
        self, *, kind: str | None = None, county: str | None = None
    ) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT kind, name, county, township, latitude, longitude, small_car_spaces
               FROM places
               WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR county = $2)
               ORDER BY kind, county, name""",
            kind,
            county,
        )
        return [dict(r) for r in rows]

    # -- EV registrations --------------------------------------------------------------------

    async def put_ev_registrations(self, counts: Sequence[tuple[str, date, int]]) -> None:
        """Set EV counts per (county, as-of date), all in one statement; counties are the
        plan's names (checked by the caller)."""
        await self._pool.execute(
            """INSERT INTO ev_registrations (county, as_of, evs)
               SELECT * FROM unnest($1::text[], $2::date[], $3::int[])
               ON CONFLICT (county, as_of) DO UPDATE SET evs = EXCLUDED.evs""",
            [c[0] for c in counts],
            [c[1] for c in counts],
            [c[2] for c in counts],
        )

    async def ev_registrations(self, county: str | None = None) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            """SELECT county, as_of, evs FROM ev_registrations
               WHERE $1::text IS NULL OR county = $1 ORDER BY county, as_of""",
            county,
        )
        return [dict(r) for r in rows]

    # -- plans -------------------------------------------------------------------------------

    async def load_plan(
        self,
        plan_id: str,
        document: dict[str, Any],
        *,
        activate: bool,
        loaded_by: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Store a plan (replacing one of the same id) once `plan_from` accepts it; with
        `activate` it becomes the one in force. Returns its summary and whether it is new."""
        plan_from(document)  # PlanError (InvalidInput) listing every problem
        async with self._pool.acquire() as conn, conn.transaction():
            # one writer at a time keeps "one active plan" without unique-index races
            await conn.execute("LOCK TABLE plans IN SHARE ROW EXCLUSIVE MODE")
            if activate:
                await conn.execute(
                    "UPDATE plans SET active = false WHERE active AND plan_id <> $1", plan_id
                )
            row = await conn.fetchrow(
                f"""INSERT INTO plans (plan_id, document, active, loaded_by, loaded_at)
                    VALUES ($1, $2, $3, $4, now())
                    ON CONFLICT (plan_id) DO UPDATE SET document = EXCLUDED.document,
                        active = plans.active OR EXCLUDED.active,
                        loaded_by = EXCLUDED.loaded_by, loaded_at = EXCLUDED.loaded_at
                    RETURNING {_PLAN_SUMMARY}, (xmax = 0) AS created""",
                plan_id,
                document,
                activate,
                loaded_by,
            )
        assert row is not None  # an upsert always returns its row
        summary = dict(row)
        created = bool(summary.pop("created"))
        return summary, created

    async def ensure_default_plan(self) -> bool:
        """On a first start (no plan stored at all), load the shipped plan and make it active."""
        status: str = await self._pool.execute(
            """INSERT INTO plans (plan_id, document, active, loaded_by)
               SELECT $1::text, $2::jsonb, true, 'default' WHERE NOT EXISTS (SELECT 1 FROM plans)
               ON CONFLICT DO NOTHING""",
            DEFAULT_PLAN_ID,
            default_plan_document(),
        )
        return status.endswith(" 1")

    async def plans(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(f"SELECT {_PLAN_SUMMARY} FROM plans ORDER BY plan_id")
        return [dict(r) for r in rows]

    async def active_plan(self) -> dict[str, Any] | None:
        """The plan in force with its document, or None."""
        row = await self._pool.fetchrow(f"SELECT {_PLAN_SUMMARY}, document FROM plans WHERE active")
        return None if row is None else dict(row)

    async def plan(self) -> Plan:
        """The plan in force, read (InvalidInput when none is active)."""
        stored = await self.active_plan()
        if stored is None:
            raise InvalidInput("no plan is active: load one with POST /api/v1/plans")
        return plan_from(stored["document"])

    async def county_of(self) -> CountyOf:
        """Maps county names as written (Chinese or English) to the active plan's names."""
        plan = await self.plan()
        return lambda name: canonical_county(plan, name)


_RECORDS = """SELECT s.id, s.county, s.township, s.village, s.site_name, x.category,
           s.address, s.latitude, s.longitude, x.parking_spaces, s.commissioned_on,
           s.access_mode, s.owner_unit, s.operator_id, s.rated_power_kw,
           s.rated_voltage_max_v, s.rated_voltage_min_v, s.rated_current_a,
           COALESCE(e.powers, '{}') AS powers, COALESCE(e.currents, '{}') AS currents
    FROM stations s
    LEFT JOIN sites x ON x.site_name = s.site_name
    LEFT JOIN LATERAL (
        SELECT array_agg(q.power_kw ORDER BY q.connector_no) AS powers,
               array_agg(q.current ORDER BY q.connector_no) AS currents
        FROM station_equipment q WHERE q.station_id = s.id
    ) e ON true
    WHERE $1::text[] IS NULL OR s.id = ANY($1::text[])
    ORDER BY s.id"""


async def _read(conn: Pool | Connection, ids: Sequence[str] | None) -> list[RegistryRow]:
    """The registry records of `ids` (of every station when None), by station id."""
    return [_registry_row(r) for r in await conn.fetch(_RECORDS, ids)]


async def _lock(conn: Connection, ids: Sequence[str]) -> None:
    """Lock the stations that exist, in id order (two imports cannot deadlock)."""
    await conn.execute(
        "SELECT id FROM stations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", ids
    )


async def _write(
    conn: Connection,
    rows: Sequence[RegistryRow],
    *,
    by: str,
    at: datetime,
    action: str,
    dry_run: bool,
) -> ImportResult:
    """Store checked rows in the caller's transaction; see `RegistryStore.import_rows`."""
    ids = [r.station_id for r in rows]
    await _lock(conn, ids)
    before = {r.station_id: r for r in await _read(conn, ids)}
    rows = [complete(r, before.get(r.station_id)) for r in rows]
    await _check_owners(conn, rows)
    changed = tuple(r.station_id for r in rows if _access(before.get(r.station_id)) != _access(r))
    result = ImportResult(len(rows), len(rows) - len(before), len(before), changed)
    if dry_run or not rows:
        return result
    await _upsert_stations(conn, rows)
    await _upsert_sites(conn, rows)
    await conn.execute("DELETE FROM station_equipment WHERE station_id = ANY($1::text[])", ids)
    equipment = [
        (r.station_id, number, c.power_kw, c.current)
        for r in rows
        for number, c in enumerate(r.connectors, start=1)
    ]
    await conn.execute(
        """INSERT INTO station_equipment (station_id, connector_no, power_kw, current)
           SELECT * FROM unnest($1::text[], $2::int[], $3::numeric[], $4::text[])""",
        [e[0] for e in equipment],
        [e[1] for e in equipment],
        [e[2] for e in equipment],
        [e[3] for e in equipment],
    )
    after = await _read(conn, ids)
    await audit.record_many(
        conn,
        [
            audit.Action(
                at=at,
                actor=by,
                action=action,
                subject_kind="station",
                subject_id=row.station_id,
                detail={"created": row.station_id not in before, "changes": diff},
            )
            for row in after
            if (diff := changes(before.get(row.station_id), row))
        ],
    )
    return result


def _access(row: RegistryRow | None) -> tuple[str, str | None]:
    """Who may use a station (a new one is public until stored otherwise)."""
    return ("public", None) if row is None else (row.access_mode, row.owner_unit)


async def _check_owners(conn: Connection, rows: Sequence[RegistryRow]) -> None:
    """A private or shared station's owner must be a registered unit (RowsInvalid)."""
    wanted = sorted({r.owner_unit for r in rows if r.owner_unit is not None})
    units = {
        r["unit_id"]
        for r in await conn.fetch(
            "SELECT unit_id FROM units WHERE unit_id = ANY($1::text[])", wanted
        )
    }
    problems = [
        RowError(
            r.line,
            "owner_unit",
            f"a {r.access_mode} station needs its owner unit"
            if r.owner_unit is None
            else f"unit {r.owner_unit!r} does not exist: a {r.access_mode} station's owner "
            "must be a registered unit (POST /api/v1/units)",
        )
        for r in rows
        if r.access_mode != "public" and r.owner_unit not in units
    ]
    if problems:
        raise RowsInvalid(problems)


async def _upsert_stations(conn: Connection, rows: Sequence[RegistryRow]) -> None:
    await conn.execute(
        """INSERT INTO stations (id, county, township, village, site_name, address,
               latitude, longitude, commissioned_on, access_mode, owner_unit,
               operator_id, rated_power_kw, rated_voltage_max_v, rated_voltage_min_v,
               rated_current_a)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
               $5::text[], $6::text[], $7::float8[], $8::float8[], $9::date[],
               $10::text[], $11::text[], $12::text[], $13::numeric[], $14::int[], $15::int[],
               $16::int[])
           ON CONFLICT (id) DO UPDATE SET county = EXCLUDED.county,
               township = EXCLUDED.township, village = EXCLUDED.village,
               site_name = EXCLUDED.site_name, address = EXCLUDED.address,
               latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
               commissioned_on = EXCLUDED.commissioned_on,
               access_mode = EXCLUDED.access_mode, owner_unit = EXCLUDED.owner_unit,
               operator_id = EXCLUDED.operator_id,
               rated_power_kw = EXCLUDED.rated_power_kw,
               rated_voltage_max_v = EXCLUDED.rated_voltage_max_v,
               rated_voltage_min_v = EXCLUDED.rated_voltage_min_v,
               rated_current_a = EXCLUDED.rated_current_a, updated_at = now()""",
        [r.station_id for r in rows],
        [r.county for r in rows],
        [r.township for r in rows],
        [r.village for r in rows],
        [r.site_name for r in rows],
        [r.address for r in rows],
        [r.latitude for r in rows],
        [r.longitude for r in rows],
        [r.commissioned_on for r in rows],
        [r.access_mode for r in rows],
        [r.owner_unit for r in rows],
        [r.operator_id for r in rows],
        [r.rated_power_kw for r in rows],
        [r.rated_voltage_max_v for r in rows],
        [r.rated_voltage_min_v for r in rows],
        [r.rated_current_a for r in rows],
    )


async def _upsert_sites(conn: Connection, rows: Sequence[RegistryRow]) -> None:
    """Create the sites rows name; set a site's category and parking spaces only from a row
    that has those columns (a file without them keeps what the site has)."""
    sites = {r.site_name: r for r in rows if r.site_name is not None}
    given = [(r, "site_category" in r.given, "parking_spaces" in r.given) for r in sites.values()]
    await conn.execute(
        """INSERT INTO sites (site_name, category, parking_spaces)
           SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
           ON CONFLICT (site_name) DO NOTHING""",
        list(sites),
        [r.site_category if category else None for r, category, _ in given],
        [r.parking_spaces if spaces else None for r, _, spaces in given],
    )
    await conn.execute(
        """UPDATE sites x SET
               category = CASE WHEN u.has_category THEN u.category ELSE x.category END,
               parking_spaces = CASE WHEN u.has_spaces THEN u.spaces ELSE x.parking_spaces END,
               updated_at = now()
           FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[], $5::bool[])
               AS u(site_name, category, spaces, has_category, has_spaces)
           WHERE x.site_name = u.site_name AND (u.has_category OR u.has_spaces)""",
        list(sites),
        [r.site_category for r, _, _ in given],
        [r.parking_spaces for r, _, _ in given],
        [category for _, category, _ in given],
        [spaces for _, _, spaces in given],
    )


def _registry_row(r: Any) -> RegistryRow:
    rated: Decimal | None = r["rated_power_kw"]
    return RegistryRow(
        station_id=r["id"],
        county=r["county"],
        township=r["township"],
        village=r["village"],
        site_name=r["site_name"],
        site_category=r["category"],
        address=r["address"],
        latitude=r["latitude"],
        longitude=r["longitude"],
        parking_spaces=r["parking_spaces"],
        connectors=tuple(
            Connector(power, current)
            for power, current in zip(r["powers"], r["currents"], strict=True)
        ),
        commissioned_on=r["commissioned_on"],
        access_mode=r["access_mode"],
        owner_unit=r["owner_unit"],
        operator_id=r["operator_id"],
        rated_power_kw=rated,
        rated_voltage_max_v=r["rated_voltage_max_v"],
        rated_voltage_min_v=r["rated_voltage_min_v"],
        rated_current_a=r["rated_current_a"],
    )
