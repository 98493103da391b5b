"""The OCPP-J wire format as the simulated stations use it: the shared `ocppj` package plus the
versions and subprotocol names a station offers.

1.6J §4 and 2.0.1 Part 4 §4 share the frame shapes and spell some error codes differently; both
live in the top-level `ocppj` package, which the CSMS uses too (it imports neither side).
"""

from __future__ import annotations

from ocppj.codes import V16, V201, Fault, error_code
from ocppj.codes import RpcFault as FrameError
from ocppj.frames import (
    MAX_DESCRIPTION_LENGTH,
    MAX_MESSAGE_ID_LENGTH,
    Call,
    CallError,
    CallResult,
    Frame,
    MessageType,
    encode_call,
    encode_error,
    encode_fault,
    encode_result,
    parse,
)

VERSIONS = (V16, V201)
SUBPROTOCOLS = {V16: "ocpp1.6", V201: "ocpp2.0.1"}
CALL, CALLRESULT, CALLERROR = MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR

__all__ = [
    "CALL",
    "CALLERROR",
    "CALLRESULT",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_MESSAGE_ID_LENGTH",
    "SUBPROTOCOLS",
    "V16",
    "V201",
    "VERSIONS",
    "Call",
    "CallError",
    "CallResult",
    "Fault",
    "Frame",
    "FrameError",
    "encode_call",
    "encode_error",
    "encode_fault",
    "encode_result",
    "error_code",
    "parse",
]
