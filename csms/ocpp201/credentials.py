"""The station password in OCPP 2.0.1 (A01): SetVariables SecurityCtrlr.BasicAuthPassword."""

from __future__ import annotations

from typing import Any

Params = dict[str, Any]
COMPONENT, VARIABLE = "SecurityCtrlr", "BasicAuthPassword"
REDACTED = "(new password, not logged)"
# SetVariableStatusEnumType values under which the station will use the new password.
TAKEN = frozenset({"Accepted", "RebootRequired"})


def _data(value: str) -> Params:
    return {
        "setVariableData": [
            {
                "attributeValue": value,
                "component": {"name": COMPONENT},
                "variable": {"name": VARIABLE},
            }
        ]
    }


def password_call(password: str) -> tuple[str, Params, Params]:
    """(action, payload for the wire, payload for the command log)."""
    return "SetVariables", _data(password), _data(REDACTED)


def password_answer(response: Params) -> str:
    """The station's attributeStatus for BasicAuthPassword (absent: it did not say)."""
    wanted = (COMPONENT.lower(), VARIABLE.lower())
    for result in response.get("setVariableResult") or ():
        if _names(result) == wanted:
            return str(result.get("attributeStatus"))
    return "Rejected"


def _names(item: object) -> tuple[str, str] | None:
    if not isinstance(item, dict):
        return None
    component, variable = item.get("component"), item.get("variable")
    if not isinstance(component, dict) or not isinstance(variable, dict):
        return None
    return str(component.get("name", "")).lower(), str(variable.get("name", "")).lower()


def sets_password(action: str, payload: Params) -> bool:
    """Whether a CALL the operator composed would change the station's password (names in any
    case: a station matching them loosely must not be a way round)."""
    if action != "SetVariables":
        return False
    wanted = (COMPONENT.lower(), VARIABLE.lower())
    return any(_names(item) == wanted for item in payload.get("setVariableData") or ())
