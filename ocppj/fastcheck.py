"""A fast yes/no pre-check of OCPP payloads, compiled from the same schemas as `validation`.

fastjsonschema builds every failure message while it checks (each nested field's name is
concatenated, each array item formatted through `locals()`), so a valid TransactionEvent costs
~28 us and a 1.6 MeterValues ~14 us: the biggest single cost of a message after the socket.
This module compiles each schema to one plain function that only answers "certainly valid".

It is sound by construction, never lenient: every keyword it checks it checks at least as
strictly as fastjsonschema (an integer must be an `int`, never `1.0`; a number an `int` or a
`float`; `$ref` and its siblings both apply), and a schema with a keyword it does not know
gets no pre-check at all. A payload the pre-check does not pass goes to fastjsonschema, which
either accepts it (the pre-check was stricter) or raises the exact error it always raised.
tests/unit/test_fastcheck.py checks this against fastjsonschema on every schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from fastjsonschema.draft04 import CodeGeneratorDraft04

Check = Callable[[Any], bool]
Schema = dict[str, Any]

# The very pattern fastjsonschema matches `format: date-time` with (all its drafts share it).
DATE_TIME = re.compile(CodeGeneratorDraft04.FORMAT_REGEXS["date-time"]).match

_PLAIN_REF = re.compile(r"#/definitions/([A-Za-z0-9_]+)")

# Keywords that never reject anything here: annotations, and `default` (validation compiles
# with use_default=False, so defaults are not filled in either).
_ANNOTATIONS = frozenset(
    {"description", "javaType", "comment", "title", "$schema", "$id", "id"}
    | {"definitions", "default"}
)
_TYPE_TESTS = {
    "object": "type({v}) is not dict",
    "string": "type({v}) is not str",
    "integer": "type({v}) is not int",
    "number": "type({v}) is not int and type({v}) is not float",
    "boolean": "type({v}) is not bool",
    "array": "type({v}) is not list",
}
# Keywords each type may carry (others make the schema unsupported). 1.6 puts
# additionalProperties on strings too, where JSON Schema ignores it.
_TYPE_KEYWORDS = {
    "object": {"properties", "required", "additionalProperties"},
    "string": {"maxLength", "enum", "format", "additionalProperties"},
    "integer": {"minimum", "maximum"},
    "number": {"minimum", "maximum"},
    "boolean": set(),
    "array": {"items", "minItems", "maxItems", "additionalItems"},
}


class Unsupported(Exception):
    """The schema uses something the pre-check does not model: fastjsonschema alone decides."""


def compile_check(schema: Schema) -> Check:
    """The pre-check for one schema; raises Unsupported when there can be none."""
    source, constants = _Generator(schema).source()
    namespace: dict[str, Any] = {"DATE_TIME": DATE_TIME, **constants}
    exec(compile(source, "<ocppj.fastcheck>", "exec"), namespace)  # our own generated code
    check: Check = namespace["check_root"]
    return check


class _Generator:
    """Writes one function per schema definition used, plus `check_root`."""

    def __init__(self, root: Schema) -> None:
        self._root = root
        self._functions: dict[str, list[str]] = {}
        self._definitions: dict[str, str] = {}  # definition name -> its function's name
        self._constants: dict[str, object] = {}
        self._names = 0

    def source(self) -> tuple[str, dict[str, object]]:
        self._function("check_root", self._root)
        return "\n\n".join("\n".join(f) for f in self._functions.values()), self._constants

    def _function(self, name: str, schema: Schema) -> None:
        self._functions[name] = []  # claimed first: a recursive $ref finds it
        lines = [f"def {name}(v0):"]
        self._emit(schema, "v0", lines, 1)
        lines.append("    return True")
        self._functions[name] = lines

    def _constant(self, value: object) -> str:
        self._names += 1
        name = f"C{self._names}"
        self._constants[name] = value
        return name

    def _local(self) -> str:
        self._names += 1
        return f"v{self._names}"

    def _emit(self, schema: Any, v: str, out: list[str], depth: int) -> None:
        """Lines that `return False` unless `v` certainly satisfies `schema`."""
        pad = "    " * depth
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        if "$ref" in schema:
            ref = schema["$ref"]
            target = _PLAIN_REF.fullmatch(ref) if isinstance(ref, str) else None
            if target is None:  # only plain definition names: no pointer escapes to decode
                raise Unsupported(f"$ref {ref!r}")
            definition = self._root.get("definitions", {}).get(target[1])
            if definition is None:
                raise Unsupported(f"unresolved $ref {ref!r}")
            name = self._definitions.get(target[1])
            if name is None:  # numbered, so no definition name can collide with another
                name = self._definitions[target[1]] = f"check_d{len(self._definitions)}"
                self._function(name, definition)
            out.append(f"{pad}if not {name}({v}): return False")
        kind = schema.get("type")
        known = _ANNOTATIONS | {"$ref", "type"}
        if kind is None:
            unknown = set(schema) - known
            if unknown:  # constraints without a type: not modelled
                raise Unsupported(f"untyped constraints {sorted(unknown)}")
            return
        if not isinstance(kind, str) or kind not in _TYPE_TESTS:
            raise Unsupported(f"type {kind!r}")
        unknown = set(schema) - known - _TYPE_KEYWORDS[kind]
        if unknown:
            raise Unsupported(f"keywords {sorted(unknown)}")
        out.append(f"{pad}if {_TYPE_TESTS[kind].format(v=v)}: return False")
        getattr(self, "_" + kind)(schema, v, out, pad, depth)

    def _object(self, schema: Schema, v: str, out: list[str], pad: str, depth: int) -> None:
        for key in schema.get("required", ()):
            out.append(f"{pad}if {key!r} not in {v}: return False")
        extra = schema.get("additionalProperties", True)
        properties = schema.get("properties", {})
        if extra is False:
            allowed = self._constant(frozenset(properties))
            out.append(f"{pad}if not {v}.keys() <= {allowed}: return False")
        elif extra is not True:
            raise Unsupported("additionalProperties schema")
        for key, sub in properties.items():
            inner: list[str] = []
            item = self._local()
            self._emit(sub, item, inner, depth + 1)
            if inner:
                out.append(f"{pad}if {key!r} in {v}:")
                out.append(f"{pad}    {item} = {v}[{key!r}]")
                out.extend(inner)

    def _string(self, schema: Schema, v: str, out: list[str], pad: str, depth: int) -> None:
        if "maxLength" in schema:
            out.append(f"{pad}if len({v}) > {_count(schema['maxLength'])}: return False")
        if "enum" in schema:
            values = schema["enum"]
            if not all(isinstance(e, str) for e in values):
                raise Unsupported("enum of non-strings")
            out.append(f"{pad}if {v} not in {self._constant(frozenset(values))}: return False")
        if "format" in schema:
            if schema["format"] != "date-time":
                raise Unsupported(f"format {schema['format']!r}")
            out.append(f"{pad}if DATE_TIME({v}) is None: return False")

    def _integer(self, schema: Schema, v: str, out: list[str], pad: str, depth: int) -> None:
        for keyword, test in (("minimum", "<"), ("maximum", ">")):
            if keyword in schema:
                bound = schema[keyword]
                if type(bound) not in (int, float) or not math.isfinite(bound):
                    raise Unsupported(f"{keyword} {bound!r}")
                out.append(f"{pad}if {v} {test} {bound!r}: return False")

    _number = _integer

    def _boolean(self, schema: Schema, v: str, out: list[str], pad: str, depth: int) -> None:
        return

    def _array(self, schema: Schema, v: str, out: list[str], pad: str, depth: int) -> None:
        if "minItems" in schema:
            out.append(f"{pad}if len({v}) < {_count(schema['minItems'])}: return False")
        if "maxItems" in schema:
            out.append(f"{pad}if len({v}) > {_count(schema['maxItems'])}: return False")
        items = schema.get("items")
        if items is None:
            return
        if not isinstance(items, dict):  # a tuple of schemas (and then additionalItems)
            raise Unsupported("items as a list")
        inner: list[str] = []
        item = self._local()
        self._emit(items, item, inner, depth + 1)
        if inner:
            out.append(f"{pad}for {item} in {v}:")
            out.extend(inner)


def _count(value: object) -> int:
    """A length bound as written: an int (1.5 would be truncated to a laxer bound)."""
    if type(value) is not int:
        raise Unsupported(f"length bound {value!r}")
    return value
