"""OCPP-J framing: CALL, CALLRESULT and CALLERROR frames, and the error codes of each version.

1.6J §4 and 2.0.1 Part 4 §4 share the frame shapes; they spell some error codes differently
(1.6 `FormationViolation` and the misspelt `OccurenceConstraintViolation`; 2.0.1
`FormatViolation`, `OccurrenceConstraintViolation`, `RpcFrameworkError`, `MessageTypeNotSupported`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Any

CALL = 2
CALLRESULT = 3
CALLERROR = 4

MAX_MESSAGE_ID_LENGTH = 36  # OCPP-J: ids are at most 36 characters (room for a GUID)
MAX_DESCRIPTION_LENGTH = 255  # 2.0.1 Part 4 §4.2.3

V16 = "1.6"
V201 = "2.0.1"
VERSIONS = (V16, V201)
SUBPROTOCOLS = {V16: "ocpp1.6", V201: "ocpp2.0.1"}


class Fault(Enum):
    """Why a CALL cannot be answered with a CALLRESULT, independent of the version's spelling."""

    FORMAT = auto()  # not JSON, payload not an object, property not allowed
    RPC_FRAMEWORK = auto()  # not a valid RPC frame (array shape, unreadable id)
    MESSAGE_TYPE = auto()  # message type number unknown
    NOT_IMPLEMENTED = auto()  # action unknown to the version
    NOT_SUPPORTED = auto()  # action known, but not one this station handles
    OCCURRENCE = auto()  # required field missing, too many items
    PROPERTY = auto()  # value breaks a constraint (enum, length, range)
    TYPE = auto()  # value of the wrong JSON type
    PROTOCOL = auto()  # payload incomplete for the action
    SECURITY = auto()  # not allowed now (e.g. before an accepted boot)
    INTERNAL = auto()  # the station's own fault
    GENERIC = auto()


_COMMON = {
    Fault.NOT_IMPLEMENTED: "NotImplemented",
    Fault.NOT_SUPPORTED: "NotSupported",
    Fault.PROPERTY: "PropertyConstraintViolation",
    Fault.TYPE: "TypeConstraintViolation",
    Fault.PROTOCOL: "ProtocolError",
    Fault.SECURITY: "SecurityError",
    Fault.INTERNAL: "InternalError",
    Fault.GENERIC: "GenericError",
}
ERROR_CODES: dict[str, dict[Fault, str]] = {
    # 1.6J Table 7: one code for every structural problem.
    V16: {
        **_COMMON,
        Fault.FORMAT: "FormationViolation",
        Fault.RPC_FRAMEWORK: "FormationViolation",
        Fault.MESSAGE_TYPE: "FormationViolation",
        Fault.OCCURRENCE: "OccurenceConstraintViolation",
    },
    # 2.0.1 Part 4 §4.3.
    V201: {
        **_COMMON,
        Fault.FORMAT: "FormatViolation",
        Fault.RPC_FRAMEWORK: "RpcFrameworkError",
        Fault.MESSAGE_TYPE: "MessageTypeNotSupported",
        Fault.OCCURRENCE: "OccurrenceConstraintViolation",
    },
}


def error_code(version: str, fault: Fault) -> str:
    return ERROR_CODES[version][fault]


class FrameError(Exception):
    """A frame or payload we must answer with a CALLERROR."""

    def __init__(
        self,
        fault: Fault,
        description: str,
        *,
        unique_id: str = "-1",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.fault = fault
        self.description = description
        self.unique_id = unique_id
        self.details = details or {}


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def parse(raw: str | bytes) -> Frame:
    """Decode one WebSocket message, or raise FrameError saying what is wrong with it."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FrameError(Fault.FORMAT, f"message is not valid JSON: {exc}") from None
    if not isinstance(message, list) or len(message) < 3:
        raise FrameError(Fault.RPC_FRAMEWORK, "message is not a JSON array of at least 3 elements")
    unique_id = message[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > MAX_MESSAGE_ID_LENGTH:
        raise FrameError(
            Fault.RPC_FRAMEWORK,
            f"message id must be a string of 1..{MAX_MESSAGE_ID_LENGTH} characters",
        )
    kind = message[0]
    if type(kind) is not int or kind not in (CALL, CALLRESULT, CALLERROR):
        raise FrameError(
            Fault.MESSAGE_TYPE, f"message type {kind!r} is not supported", unique_id=unique_id
        )
    if kind == CALL:
        if len(message) != 4 or not isinstance(message[2], str) or not message[2]:
            raise FrameError(
                Fault.RPC_FRAMEWORK, "a CALL is [2, id, action, {payload}]", unique_id=unique_id
            )
        if not isinstance(message[3], dict):
            raise FrameError(Fault.FORMAT, "payload must be a JSON object", unique_id=unique_id)
        return Call(unique_id, message[2], message[3])
    if kind == CALLRESULT:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameError(
                Fault.RPC_FRAMEWORK, "a CALLRESULT is [3, id, {payload}]", unique_id=unique_id
            )
        return CallResult(unique_id, message[2])
    if len(message) != 5 or not isinstance(message[2], str):
        raise FrameError(
            Fault.RPC_FRAMEWORK,
            "a CALLERROR is [4, id, code, description, {details}]",
            unique_id=unique_id,
        )
    details = message[4] if isinstance(message[4], dict) else {}
    return CallError(unique_id, message[2], str(message[3]), details)


def encode_call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return _encode([CALL, unique_id, action, payload])


def encode_result(unique_id: str, payload: dict[str, Any]) -> str:
    return _encode([CALLRESULT, unique_id, payload])


def encode_error(
    unique_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    return _encode(
        [CALLERROR, unique_id, code, description[:MAX_DESCRIPTION_LENGTH], details or {}]
    )


def encode_fault(version: str, error: FrameError, unique_id: str | None = None) -> str:
    """The CALLERROR for `error`, spelled for `version`."""
    return encode_error(
        unique_id if unique_id is not None else error.unique_id,
        error_code(version, error.fault),
        error.description,
        error.details,
    )
