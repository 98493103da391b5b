"""The 2.0.1 device, monitoring, display and customer commands as OCPP 1.6 sees them.

1.6 has GetLocalListVersion (§5.8); the other concepts do not exist in 1.6 (nor in its
security extension): the command is refused with a clear error before anything is sent.
"""

from __future__ import annotations

from typing import Any

from csms.errors import InvalidInput
from csms.rpc.payloads import Builder

Params = dict[str, Any]

# Each 2.0.1-only command and what a 1.6 operator can use instead, if anything.
ONLY_201 = {
    "get-base-report": "use get-configuration for the 1.6 keys",
    "get-report": "use get-configuration with keys",
    "get-monitoring-report": "1.6 has no variable monitoring",
    "set-variable-monitoring": "1.6 has no variable monitoring",
    "set-monitoring-base": "1.6 has no variable monitoring",
    "set-monitoring-level": "1.6 has no variable monitoring",
    "clear-variable-monitoring": "1.6 has no variable monitoring",
    "set-display-message": "1.6 has no display messages",
    "get-display-messages": "1.6 has no display messages",
    "clear-display-message": "1.6 has no display messages",
    "customer-information": "1.6 has no customer information request",
    "get-transaction-status": "1.6 has no transaction status request",
    "get-charging-profiles": "use get-composite-schedule",
    "set-network-profile": "1.6 sets its central system URL by vendor configuration keys",
}


def _refusal(command: str, hint: str) -> Builder:
    def refuse(_p: Params) -> tuple[str, Params]:
        # InvalidInput: answered 422 with this text, and nothing reaches the station
        raise InvalidInput(f"{command} is not available in OCPP 1.6: {hint}")

    return refuse


def _get_local_list_version(_p: Params) -> tuple[str, Params]:
    return "GetLocalListVersion", {}


DEVICE_BUILDERS: dict[str, Builder] = {
    "get-local-list-version": _get_local_list_version,
    **{command: _refusal(command, hint) for command, hint in ONLY_201.items()},
}
