"""Parse and encode OCPP-J frames; a malformed frame becomes an RpcFault, never a crash."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

from ocppj.codes import Fault, RpcFault, error_code

MAX_MESSAGE_ID_LENGTH = 36  # OCPP-J: "maximum of 36 characters, to allow for GUIDs"
MAX_DESCRIPTION_LENGTH = 255  # 2.0.1 Part 4 §4.2.3


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]
    # Why the answer cannot be used although it parsed (e.g. NUL characters), if it cannot.
    invalid: str | None = None


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict[str, Any]


Frame = Call | CallResult | CallError

_MESSAGE_TYPES = frozenset(kind.value for kind in MessageType)
_std_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(frame: list[Any]) -> str:
    """orjson for speed (the same compact UTF-8 text); what it refuses (integers beyond 64 bits,
    non-string keys) the standard encoder writes as before."""
    try:
        return orjson.dumps(frame).decode()
    except TypeError:
        return _std_dumps(frame)


# The id of a CALL whose body cannot be parsed, read from its first characters, so that its
# CALLERROR still names it (OCPP-J: id "-1" only when the id cannot be read).
_CALL_ID = re.compile(rf'\s*\[\s*2\s*,\s*"([^"\\\x00-\x1f]{{1,{MAX_MESSAGE_ID_LENGTH}}})"')


def _readable_id(raw: str | bytes) -> str:
    head = raw[:200] if isinstance(raw, str) else raw[:200].decode("utf-8", "replace")
    match = _CALL_ID.match(head)
    return match[1] if match else "-1"


_SURROGATE = re.compile("[\ud800-\udfff]")  # half of a UTF-16 pair: no Unicode text
_NO_TEXT = "a string holds a lone surrogate (e.g. \\ud800), which is not Unicode text"


def _scalars(value: Any) -> Iterator[Any]:
    """Every key and scalar of a decoded value (iterative: any depth that parsed)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            yield item


def unstorable(value: Any) -> str | None:
    """Why a decoded value cannot be stored or sent back, if it cannot: a string (key or value)
    holding half of a UTF-16 pair, which is no Unicode text (PostgreSQL and UTF-8 refuse it),
    or a number JSON does not have (NaN, Infinity, or one beyond a float such as 1e400)."""
    for item in _scalars(value):
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return _NO_TEXT
        elif isinstance(item, float) and not math.isfinite(item):
            return f"the number {item} is not JSON (NaN, Infinity or beyond a float)"
    return None


def loads(raw: str | bytes) -> tuple[Any, bool]:
    """The JSON value, and whether it may hold what cannot be stored (see unstorable). orjson
    for speed; what it refuses (NaN, Infinity, numbers beyond a float, lone surrogates, integers
    beyond 64 bits, bad syntax), the standard parser reads again: its error (ValueError,
    RecursionError) says what is wrong, and a value it reads is judged by what it is (a CALL
    refused, an answer marked, an API body refused)."""
    try:
        return orjson.loads(raw), False
    except orjson.JSONDecodeError:
        return json.loads(raw), True


def _text(value: Any) -> Any:
    """A decoded value that can be stored and shown: each lone surrogate replaced by U+FFFD,
    a number JSON does not have written as text ("inf", "nan")."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_text(k): _text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value


def _has_nul(value: Any) -> bool:
    """Whether any string (key or value) in a decoded value holds a NUL."""
    return any(isinstance(item, str) and "\x00" in item for item in _scalars(value))


def contains_nul(raw: str | bytes, payload: Any) -> bool:
    """Whether a decoded payload holds a NUL; the cheap text test runs first."""
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return "\\u0000" in text and _has_nul(payload)


def parse(raw: str | bytes) -> Frame:
    """Decode one WebSocket message into a frame, or raise RpcFault saying what is wrong."""
    try:
        message, odd = loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        # also integers of more digits than Python converts (4,300)
        raise RpcFault(
            Fault.FORMAT, f"message is not valid JSON: {exc}", unique_id=_readable_id(raw)
        ) from None
    except RecursionError:
        raise RpcFault(
            Fault.FORMAT, "message is nested too deeply", unique_id=_readable_id(raw)
        ) from None
    if not isinstance(message, list) or len(message) < 3:
        raise RpcFault(Fault.RPC_FRAMEWORK, "message is not a JSON array of at least 3 elements")
    unique_id = message[1]
    if odd and isinstance(unique_id, str) and unstorable(unique_id):
        # no answer can name it: UTF-8 cannot carry it
        raise RpcFault(Fault.RPC_FRAMEWORK, f"message id: {_NO_TEXT}")
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > MAX_MESSAGE_ID_LENGTH:
        raise RpcFault(
            Fault.RPC_FRAMEWORK,
            f"message id must be a string of 1..{MAX_MESSAGE_ID_LENGTH} characters",
        )
    kind = message[0]
    if type(kind) is not int or kind not in _MESSAGE_TYPES:
        raise RpcFault(
            Fault.MESSAGE_TYPE, f"message type {kind!r} is not supported", unique_id=unique_id
        )
    if kind == MessageType.CALL:
        if len(message) != 4:
            raise RpcFault(
                Fault.RPC_FRAMEWORK, "a CALL has exactly 4 elements", unique_id=unique_id
            )
        action, payload = message[2], message[3]
        if not isinstance(action, str) or not action:
            raise RpcFault(Fault.RPC_FRAMEWORK, "action must be a string", unique_id=unique_id)
        if not isinstance(payload, dict):
            if payload is not None:
                raise RpcFault(Fault.FORMAT, "payload must be a JSON object", unique_id=unique_id)
            # OCPP-J (1.6J §4.2.1): a CALL without payload may say null as well as {}; the
            # schema of the action still decides whether an empty payload will do
            payload = {}
        if contains_nul(raw, payload):
            # PostgreSQL text and jsonb cannot hold NUL; no OCPP field needs it
            raise RpcFault(
                Fault.PROPERTY, "NUL characters (\\u0000) are not accepted", unique_id=unique_id
            )
        if odd and (problem := unstorable([action, payload])) is not None:
            raise RpcFault(Fault.FORMAT, problem, unique_id=unique_id)
        return Call(unique_id, action, payload)
    if kind == MessageType.CALLRESULT:
        payload = message[2]
        if len(message) != 3 or not isinstance(payload, dict):
            raise RpcFault(
                Fault.RPC_FRAMEWORK,
                "a CALLRESULT is [3, id, {payload}]",
                unique_id=unique_id,
            )
        if contains_nul(raw, payload):
            return CallResult(unique_id, payload, "the answer contains NUL characters")
        if odd and (problem := unstorable(payload)) is not None:
            return CallResult(unique_id, _text(payload), f"the answer: {problem}")
        return CallResult(unique_id, payload)
    if len(message) != 5 or not isinstance(message[2], str):
        raise RpcFault(
            Fault.RPC_FRAMEWORK,
            "a CALLERROR is [4, id, code, description, {details}]",
            unique_id=unique_id,
        )
    details = message[4] if isinstance(message[4], dict) else {}
    code, description = message[2], str(message[3])
    if odd:  # kept for operators: what PostgreSQL cannot hold is written another way
        code, description, details = _text(code), _text(description), _text(details)
    # nor a NUL
    description = description.replace("\x00", "\ufffd")
    return CallError(unique_id, code.replace("\x00", "\ufffd"), description, details)


def encode_call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return _dumps([MessageType.CALL.value, unique_id, action, payload])


def encode_result(unique_id: str, payload: dict[str, Any]) -> str:
    return _dumps([MessageType.CALLRESULT.value, unique_id, payload])


def encode_error(
    unique_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    return _dumps(
        [
            MessageType.CALLERROR.value,
            unique_id,
            code,
            description[:MAX_DESCRIPTION_LENGTH],
            details or {},
        ]
    )


def encode_fault(version: str, fault: RpcFault, unique_id: str | None = None) -> str:
    """The CALLERROR for `fault`, spelled for `version`."""
    return encode_error(
        fault.unique_id if unique_id is None else unique_id,
        error_code(version, fault.fault),
        fault.description,
        fault.details,
    )
