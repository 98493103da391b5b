"""OCPP 1.6 configuration keys (§9): a typed key store with read-only and write-only keys.

GetConfiguration (§5.8) and ChangeConfiguration (§5.3) answer from here: unknown key ->
NotSupported, read-only key or a value of the wrong shape -> Rejected. Write-only keys (the
security whitepaper's AuthorizationKey) are listed without their value. Pure: the station reads
values when it needs them, so a change takes effect without a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

MAX_VALUE_LENGTH = 500  # 1.6 KeyValue.value is CiString500


class KeyType(StrEnum):
    BOOL = "bool"
    INT = "int"
    LIST = "list"  # comma-separated list (CSL)
    STRING = "string"


@dataclass(frozen=True, slots=True)
class KeySpec:
    name: str
    type: KeyType
    value: str
    readonly: bool = False
    write_only: bool = False  # never reported (secrets)
    members: frozenset[str] | None = None  # allowed list members
    min_int: int | None = None
    max_int: int | None = None
    max_items: int | None = None
    min_length: int | None = None
    max_length: int | None = None

    def problem(self, value: str) -> str | None:
        """Why `value` is not acceptable for this key, or None."""
        if len(value) > MAX_VALUE_LENGTH:
            return "value longer than 500 characters"
        if self.type is KeyType.BOOL:
            return None if value.lower() in ("true", "false") else "not true/false"
        if self.type is KeyType.INT:
            try:
                number = int(value)
            except ValueError:
                return "not an integer"
            if self.min_int is not None and number < self.min_int:
                return f"below {self.min_int}"
            if self.max_int is not None and number > self.max_int:
                return f"above {self.max_int}"
            return None
        if self.type is KeyType.LIST:
            items = split_list(value)
            if self.members is not None and any(i not in self.members for i in items):
                return "unsupported list member"
            if self.max_items is not None and len(items) > self.max_items:
                return f"more than {self.max_items} items"
            return None
        if self.min_length is not None and len(value) < self.min_length:
            return f"shorter than {self.min_length} characters"
        if self.max_length is not None and len(value) > self.max_length:
            return f"longer than {self.max_length} characters"
        return None


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def normalise(spec: KeySpec, value: str) -> str:
    if spec.type is KeyType.BOOL:
        return value.lower()
    if spec.type is KeyType.INT:
        return str(int(value))
    if spec.type is KeyType.LIST:
        return ",".join(split_list(value))
    return value


class KeyStore:
    """The station's configuration; keys are case-sensitive as in §9."""

    def __init__(
        self,
        specs: Iterable[KeySpec],
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self._keys: dict[str, KeySpec] = {}
        for spec in specs:
            # A write-only secret may start empty (no password set yet).
            problem = None if spec.write_only and not spec.value else spec.problem(spec.value)
            if problem is not None:
                raise ValueError(f"default of {spec.name}: {problem}")
            self._keys[spec.name] = spec
        self.on_change = on_change

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def get(self, key: str) -> str:
        return self._keys[key].value

    def get_int(self, key: str) -> int:
        return int(self.get(key))

    def get_bool(self, key: str) -> bool:
        return self.get(key).lower() == "true"

    def get_list(self, key: str) -> list[str]:
        return split_list(self.get(key))

    def set_internal(self, key: str, value: str) -> None:
        """The station itself updates a value (read-only ones included)."""
        self._keys[key] = replace(self._keys[key], value=value)

    def configuration(self, keys: list[str] | None) -> tuple[list[dict[str, object]], list[str]]:
        """GetConfiguration: (configurationKey entries, unknownKey), §5.8."""
        wanted = keys if keys else list(self._keys)
        known: list[dict[str, object]] = []
        unknown: list[str] = []
        for name in wanted:
            spec = self._keys.get(name)
            if spec is None:
                unknown.append(name)
                continue
            entry: dict[str, object] = {"key": name, "readonly": spec.readonly}
            if not spec.write_only:
                entry["value"] = spec.value
            known.append(entry)
        return known, unknown

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration status, §5.3: Accepted, Rejected or NotSupported."""
        spec = self._keys.get(key)
        if spec is None:
            return "NotSupported"
        if spec.readonly or spec.problem(value) is not None:
            return "Rejected"
        self._keys[key] = replace(spec, value=normalise(spec, value))
        if self.on_change is not None:
            self.on_change(key, self._keys[key].value)
        return "Accepted"
