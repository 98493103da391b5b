"""Payload checks against the official OCPP JSON schemas shipped in the `ocpp` package.

A real charger refuses a malformed request with the CALLERROR the spec names (1.6J Table 7,
2.0.1 Part 4 §4.3); the station validates each CSMS-initiated CALL before acting on it. Only the
schema files are used, not the library's ChargePoint (see the design guide §4).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from simulators.ocppj import V16, V201, Fault, FrameError

_SCHEMA_PACKAGES = {V16: ("v16", ""), V201: ("v201", "Request")}

# Which schema rule maps to which fault.
_RULE_FAULTS = {
    "required": Fault.OCCURRENCE,
    "minItems": Fault.OCCURRENCE,
    "maxItems": Fault.OCCURRENCE,
    "type": Fault.TYPE,
    "format": Fault.TYPE,
    "additionalProperties": Fault.FORMAT,
}

Validator = Callable[[Any], Any]


def _directory(version: str) -> Any:
    package, _ = _SCHEMA_PACKAGES[version]
    return resources.files("ocpp") / package / "schemas"


@cache
def known_actions(version: str) -> frozenset[str]:
    """Every action the version defines, in either direction."""
    _, suffix = _SCHEMA_PACKAGES[version]
    names = set()
    for entry in _directory(version).iterdir():
        name: str = entry.name
        if not name.endswith(".json") or name.endswith("Response.json"):
            continue
        stem = name[: -len(".json")]
        names.add(stem[: -len(suffix)] if suffix and stem.endswith(suffix) else stem)
    return frozenset(names)


@cache
def _validator(version: str, action: str, response: bool) -> Validator:
    _, suffix = _SCHEMA_PACKAGES[version]
    name = f"{action}{'Response' if response else suffix}.json"
    schema = json.loads((_directory(version) / name).read_text(encoding="utf-8"))
    # The schemas' ids are URNs fastjsonschema cannot resolve references against.
    schema.pop("$id", None)
    schema.pop("id", None)
    compiled: Validator = fastjsonschema.compile(schema, use_default=False)
    return compiled


def validate(version: str, action: str, payload: dict[str, Any], *, response: bool = False) -> None:
    """Raise FrameError with the fitting fault when `payload` breaks the action's schema."""
    try:
        _validator(version, action, response)(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        fault = _RULE_FAULTS.get(exc.rule or "", Fault.PROPERTY)
        where = (exc.name or "data").replace("data.", "", 1).replace("data", "payload", 1)
        raise FrameError(
            fault, f"{action}: {exc.message}", details={"field": where, "rule": exc.rule}
        ) from None
