"""The one SQL condition for "this station is in the caller's scope", shared by every query a
scoped account may run, so no route filters by hand."""

from __future__ import annotations

from csms.domain.scope import Scope, scope_columns


def station_in_scope(id_column: str, counties: int, owner_unit: int) -> str:
    """A condition true when the station whose id is `id_column` is in the scope passed as the
    query parameters number `counties` (text[]) and `owner_unit` (text), from `scope_args`;
    both NULL: the whole network, and then the condition costs no lookup.

    `id_column` must be qualified (`s.id`, `transactions.station_id`): it is read inside a
    subquery over `stations`.
    """
    c, o = f"${counties}", f"${owner_unit}"
    return (
        f"({c}::text[] IS NULL AND {o}::text IS NULL OR EXISTS ("
        f"SELECT 1 FROM stations scope_station WHERE scope_station.id = {id_column}"
        f" AND ({c}::text[] IS NULL OR scope_station.county = ANY({c}::text[]))"
        f" AND ({o}::text IS NULL OR scope_station.owner_unit = {o})))"
    )


def scope_args(scope: Scope | None) -> tuple[list[str] | None, str | None]:
    """The two parameters `station_in_scope` reads, in its order."""
    return scope_columns(scope)


def unit_in_scope(unit_alias: str, counties: int, owner_unit: int) -> str:
    """A condition true when the owner unit whose `units` row is `unit_alias` is in the scope
    passed as the query parameters number `counties` and `owner_unit` (as `station_in_scope`):
    an owner-unit scope sees its own unit; a county scope sees a unit that owns a station in
    one of its counties or is itself registered in one (read-only: csms.api.routes.units)."""
    c, o, u = f"${counties}", f"${owner_unit}", unit_alias
    return (
        f"({c}::text[] IS NULL AND {o}::text IS NULL"
        f" OR {o}::text IS NOT NULL AND {u}.unit_id = {o}"
        f" OR {c}::text[] IS NOT NULL AND ({u}.county = ANY({c}::text[]) OR EXISTS ("
        f"SELECT 1 FROM stations scope_station WHERE scope_station.owner_unit = {u}.unit_id"
        f" AND scope_station.county = ANY({c}::text[]))))"
    )
