"""The schema pre-check never passes what fastjsonschema refuses, and passes ordinary payloads.

Every request and response schema of both versions: payloads generated from the schema, then
broken one way at a time (a wrong type, a missing or unknown key, a value out of its enum, its
length or its range, a bad date-time, 1.0 or True for an integer). Seeded, so a failure repeats.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

import fastjsonschema
import pytest
from fastjsonschema.draft04 import CodeGeneratorDraft04
from fastjsonschema.draft06 import CodeGeneratorDraft06
from fastjsonschema.draft07 import CodeGeneratorDraft07

from ocppj import fastcheck, validation
from ocppj.codes import V16, V201, RpcFault

SCHEMAS = [
    (version, action, response)
    for version in (V16, V201)
    for action in sorted(validation.known_actions(version))
    for response in (False, True)
]
ROUNDS = 60  # generated payloads per schema, each also broken in several ways
WRONG = [None, True, False, 0, 1.0, 1.5, -1, 2**40, "", "x", "2026-12-07T10:00:00Z", [], {}, [1]]
BAD_TIMES = ["2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-12-07 10:00:00Z", "yesterday"]


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].removeprefix("#/definitions/")]
    return schema


def _text(rng: random.Random, limit: int) -> str:
    alphabet = string.ascii_letters + string.digits + "-_. 充电桩"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, min(limit, 24))))


def _instance(schema: dict[str, Any], root: dict[str, Any], rng: random.Random) -> Any:
    """A payload the schema accepts, with integers as int (as a JSON parser gives them)."""
    schema = _resolve(schema, root)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return {
            key: _instance(sub, root, rng)
            for key, sub in props.items()
            if key in required or rng.random() < 0.5
        }
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        items = schema.get("items", {})
        return [_instance(items, root, rng) for _ in range(rng.randint(low, high))]
    if kind == "string":
        if "enum" in schema:
            return rng.choice(schema["enum"])
        if schema.get("format") == "date-time":
            return rng.choice(["2026-12-07T10:00:00Z", "2026-12-07T10:00:00.123+08:00"])
        if schema.get("format") == "uri":
            return "https://example.com/firmware.bin"
        return _text(rng, schema.get("maxLength", 40))
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", -1000), schema.get("maximum", 1000)
        if kind == "number" and rng.random() < 0.5:
            return rng.uniform(low, high)
        return rng.randint(int(low), int(high))
    if kind == "boolean":
        return rng.random() < 0.5
    return rng.choice(WRONG)  # an untyped schema accepts anything


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += _paths(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += _paths(sub, (*path, index))
    return found


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copied = copy.deepcopy(value)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return copied


def _broken(payload: Any, rng: random.Random) -> list[Any]:
    """The payload broken in several ways, each at a random place."""
    out = []
    paths = _paths(payload)
    for _ in range(6):
        path = rng.choice(paths)
        out.append(_set(payload, path, rng.choice(WRONG + BAD_TIMES + ["é" * 600])))
    dicts = [p for p in paths if isinstance(_get(payload, p), dict)]
    for path in rng.sample(dicts, min(3, len(dicts))):
        node = _get(payload, path)
        if node:
            out.append(_set(payload, path, {k: v for k, v in node.items() if k != min(node)}))
        out.append(_set(payload, path, {**node, "unknownKey": 1}))
    lists = [p for p in paths if isinstance(_get(payload, p), list)]
    for path in lists[:2]:
        node = _get(payload, path)
        out.append(_set(payload, path, []))
        out.append(_set(payload, path, node * 50))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _accepted(version: str, action: str, response: bool, payload: Any) -> bool:
    try:
        validation._validator(version, action, response)(payload)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


@pytest.mark.parametrize(("version", "action", "response"), SCHEMAS)
def test_the_pre_check_is_never_more_lenient_than_fastjsonschema(
    version: str, action: str, response: bool
) -> None:
    check = validation._pre_check(version, action, response)
    if check is None:
        pytest.skip("no pre-check for this schema (a keyword it does not model)")
    schema = validation._schema(version, action, response)
    rng = random.Random(f"{version}/{action}/{response}")
    passed = 0
    for _ in range(ROUNDS):
        payload = _instance(schema, schema, rng)
        # what a JSON parser gives for a valid payload passes the fast way
        assert check(payload), payload
        assert _accepted(version, action, response, payload), payload
        for broken in _broken(payload, rng):
            if check(broken):
                passed += 1
                assert _accepted(version, action, response, broken), broken
    for odd in WRONG:
        assert not check(odd) or _accepted(version, action, response, odd)


def test_the_same_date_time_pattern_in_every_draft() -> None:
    """fastcheck matches date-times with draft-04's pattern, for 2.0.1's draft-06 schemas too."""
    pattern = CodeGeneratorDraft04.FORMAT_REGEXS["date-time"]
    assert CodeGeneratorDraft06.FORMAT_REGEXS["date-time"] == pattern
    assert CodeGeneratorDraft07.FORMAT_REGEXS["date-time"] == pattern


def test_the_hot_messages_have_a_pre_check() -> None:
    for version, action in [
        (V16, "MeterValues"),
        (V16, "StartTransaction"),
        (V16, "StopTransaction"),
        (V16, "StatusNotification"),
        (V16, "Heartbeat"),
        (V201, "TransactionEvent"),
        (V201, "MeterValues"),
        (V201, "StatusNotification"),
    ]:
        assert validation._pre_check(version, action, False) is not None, action


def test_a_payload_the_pre_check_refuses_gets_fastjsonschemas_error() -> None:
    payload = {"connectorId": 1, "meterValue": [{"timestamp": "2026-12-07T10:00:00Z"}]}
    with pytest.raises(RpcFault) as raised:
        validation.validate(V16, "MeterValues", payload)
    assert raised.value.details == {"field": "meterValue[0]", "rule": "required"}
    # stricter than the schema, never different: 1.0 is an integer to draft-06
    event = {"evseId": 1.0, "meterValue": [{"timestamp": "2026-12-07T10:00:00Z",
             "sampledValue": [{"value": 1}]}]}  # fmt: skip
    assert validation._pre_check(V201, "MeterValues", False)(event) is False  # type: ignore[misc]
    validation.validate(V201, "MeterValues", event)


def _strict_against_fastjsonschema(schema: dict[str, Any], payloads: list[Any]) -> None:
    check = fastcheck.compile_check(schema)
    for payload in payloads:
        if check(payload):
            fastjsonschema.compile(schema, use_default=False)(payload)  # must not raise


def test_definitions_are_told_apart_whatever_their_names() -> None:
    """A definition called "root", or two whose names differ only in punctuation, each keep
    their own rules (an earlier draft named functions after definitions)."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/definitions/root"},
            "b": {"$ref": "#/definitions/A_B"},
        },
        "definitions": {
            "root": {"type": "string", "maxLength": 2},
            "A_B": {"type": "integer", "maximum": 5},
        },
    }
    _strict_against_fastjsonschema(
        schema, [{"a": "xyz"}, {"a": "xy"}, {"b": 6}, {"b": 5}, {"a": 1}, {"b": "x"}]
    )
    assert fastcheck.compile_check(schema)({"a": "xy", "b": 5})


def test_what_the_pre_check_cannot_judge_exactly_gets_no_pre_check() -> None:
    odd = [
        {"type": "array", "minItems": 1.5},  # int() would lower the bound to 1
        {"type": "string", "maxLength": 2.5},
        {"type": "number", "maximum": float("inf")},  # would compile to a name error
        {"type": "number", "minimum": float("nan")},
        {
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/A~1B"}},
            "definitions": {"A/B": {"type": "string"}},
        },
        {
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/x²"}},
            "definitions": {"x²": {"type": "string"}},
        },
        {"type": "string", "format": "uri"},
        {"type": "number", "multipleOf": 0.1},
        {"type": ["string", "null"]},
    ]
    for schema in odd:
        with pytest.raises(fastcheck.Unsupported):
            fastcheck.compile_check(schema)
