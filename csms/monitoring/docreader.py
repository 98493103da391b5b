"""Reading typed values out of a JSON document while collecting every problem found.

Validators that stop at the first problem make people fix a document one error at a time;
this one notes each problem with its path ("counties[2].name: missing") and carries on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

YEAR = re.compile(r"^\d{4}$")


def at(where: str, key: str) -> str:
    """The path of key inside where ("" is the document itself)."""
    return f"{where}.{key}" if where else key


class DocumentReader:
    """Reads typed values out of nested mappings, collecting problems instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def get(self, obj: Mapping[str, Any], where: str, key: str, *, optional: bool) -> Any:
        if key not in obj or obj[key] is None:
            if not optional:
                self.fail(at(where, key), "missing")
            return None
        return obj[key]

    def section(
        self, obj: Mapping[str, Any], where: str, key: str, *, optional: bool = False
    ) -> Mapping[str, Any] | None:
        value = self.get(obj, where, key, optional=optional)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(at(where, key), "must be an object")
            return None
        return value

    def text(
        self, obj: Mapping[str, Any], where: str, key: str, *, optional: bool = False
    ) -> str | None:
        value = self.get(obj, where, key, optional=optional)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(at(where, key), "must be a non-empty string")
            return None
        return value

    def count(
        self, obj: Mapping[str, Any], where: str, key: str, *, optional: bool = False
    ) -> int | None:
        value = self.get(obj, where, key, optional=optional)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(at(where, key), "must be a whole number")
            return None
        if value < 0:
            self.fail(at(where, key), "must not be negative")
            return None
        return value

    def number(
        self,
        obj: Mapping[str, Any],
        where: str,
        key: str,
        *,
        optional: bool = False,
        at_most_one: bool = False,
    ) -> Decimal | None:
        value = self.get(obj, where, key, optional=optional)
        return None if value is None else self.decimal(value, at(where, key), at_most_one)

    def decimal(self, value: Any, where: str, at_most_one: bool = False) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, "must be a number")
            return None
        number = Decimal(str(value))
        if not number.is_finite() or number < 0:
            self.fail(where, "must be a finite number, not negative")
            return None
        if at_most_one and number > 1:
            self.fail(where, "is a share and must be at most 1")
            return None
        return number

    def flag(self, obj: Mapping[str, Any], where: str, key: str) -> bool | None:
        value = self.get(obj, where, key, optional=False)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(at(where, key), "must be true or false")
            return None
        return value

    def by_year(
        self, obj: Mapping[str, Any], where: str, key: str, *, share: bool = False
    ) -> dict[int, Decimal]:
        section = self.section(obj, where, key)
        before = len(self.problems)
        out: dict[int, Decimal] = {}
        for year, value in (section or {}).items():
            here = at(at(where, key), str(year))
            number = self.decimal(value, here, share)
            if not YEAR.match(str(year)):
                self.fail(here, "a year must have four digits")
            elif number is not None:
                out[int(year)] = number
        if section is not None and not out and len(self.problems) == before:
            self.fail(at(where, key), "must give at least one year")
        return out
