"""RPC faults and how each OCPP version spells them in a CALLERROR.

1.6J Table 7 and 2.0.1 Part 4 §4.3 differ: 1.6 says `FormationViolation` and (sic)
`OccurenceConstraintViolation`; 2.0.1 says `FormatViolation`, `OccurrenceConstraintViolation`
and adds `MessageTypeNotSupported` and `RpcFrameworkError`, which 1.6 expresses as
`FormationViolation` (the PDU structure is wrong).
"""

from __future__ import annotations

from enum import Enum, auto


class Fault(Enum):
    FORMAT = auto()  # payload syntactically wrong (not JSON, not an object, extra fields)
    RPC_FRAMEWORK = auto()  # not a valid RPC message: array shape, unreadable id
    MESSAGE_TYPE = auto()  # message type number we do not support
    NOT_IMPLEMENTED = auto()  # action unknown to this version
    NOT_SUPPORTED = auto()  # action known, but not one a CSMS handles
    OCCURRENCE = auto()  # required field missing
    PROPERTY = auto()  # a value breaks a constraint (enum, length, range, pattern)
    TYPE = auto()  # a value has the wrong JSON type
    PROTOCOL = auto()  # payload is not a valid PDU for the action
    SECURITY = auto()  # not allowed for this station now
    INTERNAL = auto()  # our fault
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

V16 = "1.6"
V201 = "2.0.1"

ERROR_CODES: dict[str, dict[Fault, str]] = {
    V16: {
        **_COMMON,
        Fault.FORMAT: "FormationViolation",
        Fault.RPC_FRAMEWORK: "FormationViolation",
        Fault.MESSAGE_TYPE: "FormationViolation",
        Fault.OCCURRENCE: "OccurenceConstraintViolation",
    },
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


class RpcFault(Exception):
    """A fault to answer with a CALLERROR; raised by framing, validation or a handler."""

    def __init__(
        self,
        fault: Fault,
        description: str,
        *,
        unique_id: str = "-1",
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(description)
        self.fault = fault
        self.description = description
        self.unique_id = unique_id
        self.details = details or {}
