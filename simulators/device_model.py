"""The OCPP 2.0.1 device model: components, variables and their Actual attributes.

GetVariables / SetVariables (B06, B05) and GetBaseReport -> NotifyReport (B07) answer from
here. A variable is addressed by component (name, instance, EVSE, connector) and variable
(name, instance); statuses follow Part 2 §2 (GetVariableStatusEnumType,
SetVariableStatusEnumType). Only the Actual attribute is kept; asking for Target/MinSet/MaxSet
is NotSupportedAttributeType, as a station without those attributes must answer. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from simulators import timestamps

ACTUAL = "Actual"
MAX_SET_VALUE_LENGTH = 1000  # SetVariableDataType.attributeValue
MAX_REPORT_VALUE_LENGTH = 2500  # VariableAttributeType.value


@dataclass(frozen=True, slots=True)
class ComponentRef:
    name: str
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None

    @classmethod
    def from_payload(cls, component: dict[str, Any]) -> ComponentRef:
        evse = component.get("evse") or {}
        return cls(
            component["name"], component.get("instance"), evse.get("id"), evse.get("connectorId")
        )

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            out["instance"] = self.instance
        if self.evse is not None:
            evse: dict[str, Any] = {"id": self.evse}
            if self.connector is not None:
                evse["connectorId"] = self.connector
            out["evse"] = evse
        return out


@dataclass(frozen=True, slots=True)
class VariableRef:
    name: str
    instance: str | None = None

    @classmethod
    def from_payload(cls, variable: dict[str, Any]) -> VariableRef:
        return cls(variable["name"], variable.get("instance"))

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            out["instance"] = self.instance
        return out


@dataclass(frozen=True, slots=True)
class Variable:
    component: ComponentRef
    variable: VariableRef
    value: str
    data_type: str = "string"  # DataEnumType
    mutability: str = "ReadWrite"  # ReadOnly, WriteOnly, ReadWrite
    values_list: tuple[str, ...] | None = None  # OptionList / MemberList / SequenceList choices
    unit: str | None = None
    min_limit: Decimal | None = None
    max_limit: Decimal | None = None
    max_length: int | None = None
    constant: bool = False
    reboot_required: bool = False  # a change applies after the next reboot

    def problem(self, value: str) -> str | None:
        """Why `value` does not fit the variable's characteristics, or None."""
        if len(value) > (self.max_length or MAX_SET_VALUE_LENGTH):
            return "value too long"
        kind = self.data_type
        if kind == "boolean":
            return None if value in ("true", "false") else "not a boolean"
        if kind in ("integer", "decimal"):
            try:
                number = Decimal(value) if kind == "decimal" else Decimal(int(value))
            except (InvalidOperation, ValueError):
                return f"not an {kind}"
            if self.min_limit is not None and number < self.min_limit:
                return f"below {self.min_limit}"
            if self.max_limit is not None and number > self.max_limit:
                return f"above {self.max_limit}"
            return None
        if kind == "dateTime":
            try:
                timestamps.parse(value)
            except ValueError:
                return "not a date-time"
            return None
        if kind == "OptionList":
            return (
                None if self.values_list is None or value in self.values_list else "not an option"
            )
        if kind in ("MemberList", "SequenceList"):
            members = [m.strip() for m in value.split(",") if m.strip()]
            if self.values_list is not None and any(m not in self.values_list for m in members):
                return "not a member"
            return None
        return None

    def report_entry(self) -> dict[str, Any]:
        """ReportDataType for NotifyReport; write-only values are never reported."""
        attribute: dict[str, Any] = {
            "type": ACTUAL,
            "mutability": self.mutability,
            "persistent": True,
            "constant": self.constant,
        }
        if self.mutability != "WriteOnly":
            attribute["value"] = self.value[:MAX_REPORT_VALUE_LENGTH]
        characteristics: dict[str, Any] = {"dataType": self.data_type, "supportsMonitoring": False}
        if self.unit is not None:
            characteristics["unit"] = self.unit
        if self.max_limit is not None:
            characteristics["maxLimit"] = float(self.max_limit)
        if self.min_limit is not None:
            characteristics["minLimit"] = float(self.min_limit)
        if self.values_list is not None:
            characteristics["valuesList"] = ",".join(self.values_list)[:1000]
        return {
            "component": self.component.payload(),
            "variable": self.variable.payload(),
            "variableAttribute": [attribute],
            "variableCharacteristics": characteristics,
        }


Key = tuple[ComponentRef, VariableRef]


class DeviceModel:
    def __init__(
        self,
        variables: Iterable[Variable],
        on_change: Callable[[Variable], None] | None = None,
    ) -> None:
        self._vars: dict[Key, Variable] = {}
        for var in variables:
            problem = var.problem(var.value)
            if problem is not None:
                raise ValueError(f"{var.component.name}.{var.variable.name}: {problem}")
            self._vars[(var.component, var.variable)] = var
        self._components = {component for component, _ in self._vars}
        self.on_change = on_change

    def __len__(self) -> int:
        return len(self._vars)

    def variables(self) -> list[Variable]:
        return list(self._vars.values())

    def find(self, component: ComponentRef, variable: VariableRef) -> Variable | None:
        return self._vars.get((component, variable))

    def value(self, component: str, variable: str, **where: Any) -> str:
        """A value the station itself needs (KeyError when the model lacks it)."""
        return self._vars[(ComponentRef(component, **where), _variable_ref(variable))].value

    def int_value(self, component: str, variable: str, **where: Any) -> int:
        return int(Decimal(self.value(component, variable, **where)))

    def bool_value(self, component: str, variable: str, **where: Any) -> bool:
        return self.value(component, variable, **where) == "true"

    def list_value(self, component: str, variable: str, **where: Any) -> list[str]:
        return [v.strip() for v in self.value(component, variable, **where).split(",") if v.strip()]

    def set_internal(self, component: ComponentRef, variable: VariableRef, value: str) -> None:
        """The station updates a value itself (read-only ones included)."""
        key = (component, variable)
        self._vars[key] = replace(self._vars[key], value=value)

    def _lookup(
        self, component: ComponentRef, variable: VariableRef, attribute: str
    ) -> tuple[str, Variable | None]:
        if component not in self._components:
            return "UnknownComponent", None
        found = self._vars.get((component, variable))
        if found is None:
            return "UnknownVariable", None
        if attribute != ACTUAL:
            return "NotSupportedAttributeType", None
        return "Accepted", found

    def get(self, request: dict[str, Any]) -> dict[str, Any]:
        """One GetVariableResultType for one GetVariableDataType (B06)."""
        component = ComponentRef.from_payload(request["component"])
        variable = VariableRef.from_payload(request["variable"])
        attribute = request.get("attributeType", ACTUAL)
        status, found = self._lookup(component, variable, attribute)
        result: dict[str, Any] = {
            "attributeStatus": status,
            "attributeType": attribute,
            "component": request["component"],
            "variable": request["variable"],
        }
        if found is not None:
            if found.mutability == "WriteOnly":
                result["attributeStatus"] = "Rejected"  # B06: a write-only value is never revealed
            else:
                result["attributeValue"] = found.value[:MAX_REPORT_VALUE_LENGTH]
        return result

    def set(self, request: dict[str, Any]) -> dict[str, Any]:
        """One SetVariableResultType for one SetVariableDataType (B05)."""
        component = ComponentRef.from_payload(request["component"])
        variable = VariableRef.from_payload(request["variable"])
        attribute = request.get("attributeType", ACTUAL)
        status, found = self._lookup(component, variable, attribute)
        result: dict[str, Any] = {
            "attributeType": attribute,
            "component": request["component"],
            "variable": request["variable"],
        }
        if found is not None:
            value = request["attributeValue"]
            if found.mutability == "ReadOnly" or found.problem(value) is not None:
                status = "Rejected"  # B05: read-only, out of range or of the wrong type
            else:
                updated = replace(found, value=value)
                self._vars[(component, variable)] = updated
                if self.on_change is not None:
                    self.on_change(updated)
                status = "RebootRequired" if found.reboot_required else "Accepted"
        result["attributeStatus"] = status
        return result

    def report(self, base: str) -> list[dict[str, Any]]:
        """reportData for GetBaseReport (B07): the whole model, or a subset.

        ConfigurationInventory: the variables a CSMS may write. SummaryInventory: availability
        and problems of every component. FullInventory: everything.
        """
        chosen = self.variables()
        if base == "ConfigurationInventory":
            chosen = [v for v in chosen if v.mutability != "ReadOnly"]
        elif base == "SummaryInventory":
            chosen = [
                v
                for v in chosen
                if v.variable.name in ("AvailabilityState", "Available", "Problem")
            ]
        return [v.report_entry() for v in chosen]


def _variable_ref(text: str) -> VariableRef:
    """`Name` or `Name/Instance`."""
    name, _, instance = text.partition("/")
    return VariableRef(name, instance or None)
