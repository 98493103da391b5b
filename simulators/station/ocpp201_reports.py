"""OCPP 2.0.1: a station's answers to the CSMS's report, monitoring, display, customer-data,
transaction-status, charging-profile and network-profile requests (Part 2 B08, B09, E14, K09,
N02-N06, N09/N10, O01-O06), with the multi-part notifications that follow them.

Reports go out in parts of `DeviceDataCtrlr.ItemsPerMessageGetReport` items: seqNo from 0
(where the message has one) and tbc on all but the last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulators import timestamps
from simulators.device_model import ComponentRef, DeviceModel, VariableRef
from simulators.rpc import Handler, Reply
from simulators.smart_charging import EXTERNAL, STATION_MAX, TX, TX_DEFAULT, Profile

if TYPE_CHECKING:
    from simulators.station.station import Station

MONITOR_TYPES = {
    "ThresholdMonitoring": ("UpperThreshold", "LowerThreshold"),
    "DeltaMonitoring": ("Delta",),
    "PeriodicMonitoring": ("Periodic", "PeriodicClockAligned"),
}
PURPOSE_NAMES = {
    STATION_MAX: "ChargingStationMaxProfile",
    TX_DEFAULT: "TxDefaultProfile",
    TX: "TxProfile",
    EXTERNAL: "ChargingStationExternalConstraints",
}
DISPLAY_FORMATS = ("ASCII", "UTF8", "URI")  # this station renders no HTML (O01: NotSupported)


@dataclass(frozen=True, slots=True)
class Monitor:
    id: int
    component: ComponentRef
    variable: VariableRef
    type: str
    value: float
    severity: int
    transaction: bool


def _parts(items: list[Any], size: int) -> list[list[Any]]:
    size = max(size, 1)
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _matches(wanted: list[dict[str, Any]], component: ComponentRef, variable: VariableRef) -> bool:
    """GetReport/GetMonitoringReport componentVariable: no list selects everything."""
    if not wanted:
        return True
    for item in wanted:
        asked = ComponentRef.from_payload(item["component"])
        if asked.name != component.name or asked.instance not in (None, component.instance):
            continue
        if asked.evse is not None and asked.evse != component.evse:
            continue
        if asked.connector is not None and asked.connector != component.connector:
            continue
        if "variable" in item and VariableRef.from_payload(item["variable"]) != variable:
            continue
        return True
    return False


def profile_payload(profile: Profile) -> dict[str, Any]:
    """A 2.0.1 ChargingProfileType for a profile the station holds (K09)."""
    schedule = profile.schedule
    body: dict[str, Any] = {
        "id": profile.id,
        "chargingRateUnit": schedule.unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p.start_s, "limit": p.limit}
            | ({"numberPhases": p.phases} if p.phases else {})
            for p in schedule.periods
        ],
    }
    if schedule.duration_s is not None:
        body["duration"] = schedule.duration_s
    if schedule.start is not None:
        body["startSchedule"] = timestamps.isoformat(schedule.start)
    payload: dict[str, Any] = {
        "id": profile.id,
        "stackLevel": profile.stack_level,
        "chargingProfilePurpose": PURPOSE_NAMES[profile.purpose],
        "chargingProfileKind": profile.kind,
        "chargingSchedule": [body],
    }
    if profile.recurrency:
        payload["recurrencyKind"] = profile.recurrency
    if profile.valid_from:
        payload["validFrom"] = timestamps.isoformat(profile.valid_from)
    if profile.valid_to:
        payload["validTo"] = timestamps.isoformat(profile.valid_to)
    if profile.transaction_id:
        payload["transactionId"] = profile.transaction_id
    return payload


class ReportRequests:
    """The station's monitors, display messages and network profiles, and its answers."""

    def __init__(
        self,
        station: Station,
        model: DeviceModel,
        items_per_message: Callable[[], int],
        refresh: Callable[[], None],
    ) -> None:
        self.station = station
        self.model = model
        self._items = items_per_message
        self._refresh = refresh
        self.monitors: dict[int, Monitor] = {}
        self.monitoring_level = 9  # N05: report everything until told otherwise
        self.messages: dict[int, dict[str, Any]] = {}
        self.network_profiles: dict[int, dict[str, Any]] = {}
        self._next_monitor = 1

    def handlers(self) -> dict[str, Handler]:
        return {
            "GetReport": self.get_report,
            "GetMonitoringReport": self.get_monitoring_report,
            "SetVariableMonitoring": self.set_variable_monitoring,
            "SetMonitoringBase": self.set_monitoring_base,
            "SetMonitoringLevel": self.set_monitoring_level,
            "ClearVariableMonitoring": self.clear_variable_monitoring,
            "SetDisplayMessage": self.set_display_message,
            "GetDisplayMessages": self.get_display_messages,
            "ClearDisplayMessage": self.clear_display_message,
            "CustomerInformation": self.customer_information,
            "GetTransactionStatus": self.get_transaction_status,
            "GetChargingProfiles": self.get_charging_profiles,
            "SetNetworkProfile": self.set_network_profile,
        }

    def _in_parts(
        self, action: str, request_id: int, key: str, items: list[Any], *, numbered: bool = True
    ) -> Callable[[], Any]:
        """A follow-up sending `items` as `action` parts (after the answer, as B07/N02/O04 ask)."""
        station = self.station
        parts = _parts(items, self._items())

        async def send() -> None:
            generated = timestamps.isoformat(timestamps.utcnow())
            for seq, part in enumerate(parts):
                payload: dict[str, Any] = {
                    "requestId": request_id,
                    "tbc": seq < len(parts) - 1,
                    key: part,
                }
                if numbered:
                    payload |= {"seqNo": seq, "generatedAt": generated}
                station.send(action, payload)

        return send

    # -- B08 ------------------------------------------------------------------------------------

    async def get_report(self, p: dict[str, Any]) -> Reply:
        """B08: the variables selected by component/variable and criteria."""
        self._refresh()
        wanted = p.get("componentVariable", [])
        criteria = p.get("componentCriteria", [])
        chosen = [
            v
            for v in self.model.variables()
            if _matches(wanted, v.component, v.variable)
            and (not criteria or self._meets(v.component, criteria))
        ]
        if not chosen:
            return Reply({"status": "EmptyResultSet"})
        entries = [v.report_entry() for v in chosen]
        return Reply(
            {"status": "Accepted"},
            then=self._in_parts("NotifyReport", p["requestId"], "reportData", entries),
        )

    def _meets(self, component: ComponentRef, criteria: list[str]) -> bool:
        """A component meets a criterion when its variable of that name is true (B08)."""
        for criterion in criteria:
            found = self.model.find(component, VariableRef(criterion))
            if found is not None and found.value == "true":
                return True
        return False

    # -- N02-N06 --------------------------------------------------------------------------------

    async def get_monitoring_report(self, p: dict[str, Any]) -> Reply:
        """N02: the monitors selected, grouped per component variable."""
        wanted = p.get("componentVariable", [])
        types = {t for c in p.get("monitoringCriteria", []) for t in MONITOR_TYPES[c]}
        grouped: dict[tuple[ComponentRef, VariableRef], list[Monitor]] = {}
        for m in self.monitors.values():
            if _matches(wanted, m.component, m.variable) and (not types or m.type in types):
                grouped.setdefault((m.component, m.variable), []).append(m)
        if not grouped:
            return Reply({"status": "EmptyResultSet"})
        monitor_data = [
            {
                "component": component.payload(),
                "variable": variable.payload(),
                "variableMonitoring": [
                    {
                        "id": m.id,
                        "transaction": m.transaction,
                        "value": m.value,
                        "type": m.type,
                        "severity": m.severity,
                    }
                    for m in monitors
                ],
            }
            for (component, variable), monitors in grouped.items()
        ]
        return Reply(
            {"status": "Accepted"},
            then=self._in_parts("NotifyMonitoringReport", p["requestId"], "monitor", monitor_data),
        )

    async def set_variable_monitoring(self, p: dict[str, Any]) -> Reply:
        """N04: one result per request, in order; an accepted monitor gets an id."""
        return Reply(
            {"setMonitoringResult": [self._set_monitor(r) for r in p["setMonitoringData"]]}
        )

    def _set_monitor(self, request: dict[str, Any]) -> dict[str, Any]:
        component = ComponentRef.from_payload(request["component"])
        variable = VariableRef.from_payload(request["variable"])
        result: dict[str, Any] = {
            "type": request["type"],
            "severity": request["severity"],
            "component": request["component"],
            "variable": request["variable"],
        }
        if not any(v.component == component for v in self.model.variables()):
            return result | {"status": "UnknownComponent"}
        found = self.model.find(component, variable)
        if found is None:
            return result | {"status": "UnknownVariable"}
        if found.data_type not in ("integer", "decimal") and request["type"] != "Delta":
            return result | {"status": "UnsupportedMonitorType"}
        monitor_id = request.get("id")
        if monitor_id is not None and monitor_id not in self.monitors:
            return result | {"status": "Rejected"}  # N04: an id names an existing monitor
        duplicate = any(
            m.component == component
            and m.variable == variable
            and m.type == request["type"]
            and m.id != monitor_id
            for m in self.monitors.values()
        )
        if duplicate:
            return result | {"status": "Duplicate"}
        if monitor_id is None:
            monitor_id = self._next_monitor
            self._next_monitor += 1
        self.monitors[monitor_id] = Monitor(
            monitor_id,
            component,
            variable,
            request["type"],
            float(request["value"]),
            request["severity"],
            bool(request.get("transaction", False)),
        )
        return result | {"status": "Accepted", "id": monitor_id}

    async def set_monitoring_base(self, p: dict[str, Any]) -> Reply:
        """N03: this station has no preconfigured monitors: only All keeps the custom ones."""
        if p["monitoringBase"] != "All":
            self.monitors.clear()
        return Reply({"status": "Accepted"})

    async def set_monitoring_level(self, p: dict[str, Any]) -> Reply:
        """N05: severities 0-9."""
        if not 0 <= p["severity"] <= 9:
            return Reply({"status": "Rejected"})
        self.monitoring_level = p["severity"]
        return Reply({"status": "Accepted"})

    async def clear_variable_monitoring(self, p: dict[str, Any]) -> Reply:
        """N06: Accepted for each monitor removed, NotFound for an unknown id."""
        results = [
            {"id": i, "status": "Accepted" if self.monitors.pop(i, None) else "NotFound"}
            for i in p["id"]
        ]
        return Reply({"clearMonitoringResult": results})

    # -- O01-O06 --------------------------------------------------------------------------------

    async def set_display_message(self, p: dict[str, Any]) -> Reply:
        """O01/O02: kept by id (a new message with a known id replaces it)."""
        message = p["message"]
        if message["message"]["format"] not in DISPLAY_FORMATS:
            return Reply({"status": "NotSupportedMessageFormat"})
        tx = message.get("transactionId")
        if tx is not None and self.station.find_session(tx) is None:
            return Reply({"status": "UnknownTransaction"})
        self.messages[message["id"]] = message
        return Reply({"status": "Accepted"})

    async def get_display_messages(self, p: dict[str, Any]) -> Reply:
        """O04: Unknown when nothing matches; else the messages in NotifyDisplayMessages."""
        ids = set(p.get("id", []))
        chosen = [
            m
            for m in self.messages.values()
            if (not ids or m["id"] in ids)
            and p.get("priority") in (None, m["priority"])
            and p.get("state") in (None, m.get("state"))
        ]
        if not chosen:
            return Reply({"status": "Unknown"})
        return Reply(
            {"status": "Accepted"},
            then=self._in_parts(
                "NotifyDisplayMessages", p["requestId"], "messageInfo", chosen, numbered=False
            ),
        )

    async def clear_display_message(self, p: dict[str, Any]) -> Reply:
        """O05."""
        found = self.messages.pop(p["id"], None)
        return Reply({"status": "Accepted" if found is not None else "Unknown"})

    # -- N09/N10 --------------------------------------------------------------------------------

    async def customer_information(self, p: dict[str, Any]) -> Reply:
        """N09/N10: what the station holds about an idToken (local list, cache, sessions);
        a customer named otherwise is unknown here, reported as such."""
        if not (p["report"] or p["clear"]):
            return Reply({"status": "Rejected"})
        station = self.station
        token = (p.get("idToken") or {}).get("idToken")
        lines = []
        if token is None:
            lines.append("no data: this station keeps customer data by idToken only")
        else:
            now = timestamps.utcnow()
            listed = station.local_list.lookup(token, now)
            cached = station.auth_cache.lookup(token, now)
            running = [s for s in station.sessions.values() if s.plan.id_tag == token]
            lines.append(f"idToken {token}")
            lines.append(f"local list: {listed.status if listed else 'absent'}")
            lines.append(f"authorization cache: {cached.status if cached else 'absent'}")
            lines.append(f"sessions running: {len(running)}")
            if p["clear"]:
                # N10: the cache entry is the customer data this station may drop; the local
                # list belongs to the CSMS, which changes it with SendLocalList
                station.auth_cache.forget(token)
        if not p["report"]:
            return Reply({"status": "Accepted"})
        text = "; ".join(lines)
        chunks = [text[i : i + 512] for i in range(0, len(text), 512)]
        request_id = p["requestId"]

        async def report() -> None:
            generated = timestamps.isoformat(timestamps.utcnow())
            for seq, chunk in enumerate(chunks):
                station.send(
                    "NotifyCustomerInformation",
                    {
                        "requestId": request_id,
                        "seqNo": seq,
                        "tbc": seq < len(chunks) - 1,
                        "generatedAt": generated,
                        "data": chunk,
                    },
                )

        return Reply({"status": "Accepted"}, then=report)

    # -- E14, K09, B09 --------------------------------------------------------------------------

    async def get_transaction_status(self, p: dict[str, Any]) -> Reply:
        """E14: whether the transaction still runs and whether its messages wait to be sent."""
        queued = [
            item.payload
            for item in self.station.outbox.queue.items()
            if item.action == "TransactionEvent"
        ]
        tx = p.get("transactionId")
        if tx is None:
            return Reply({"messagesInQueue": bool(queued)})
        waiting = any(q["transactionInfo"]["transactionId"] == tx for q in queued)
        running = self.station.find_session(tx) is not None
        return Reply({"ongoingIndicator": running, "messagesInQueue": waiting})

    async def get_charging_profiles(self, p: dict[str, Any]) -> Reply:
        """K09: the profiles matching every criterion, one ReportChargingProfiles per EVSE;
        this station's profiles all come from the CSMS (limit source CSO)."""
        criterion = p["chargingProfile"]
        purpose = criterion.get("chargingProfilePurpose")
        ids = set(criterion.get("chargingProfileId", []))
        sources = criterion.get("chargingLimitSource", [])
        chosen = [
            profile
            for profile in self.station.profiles.profiles()
            if p.get("evseId") in (None, profile.evse)
            and (purpose is None or PURPOSE_NAMES[profile.purpose] == purpose)
            and criterion.get("stackLevel") in (None, profile.stack_level)
            and (not ids or profile.id in ids)
            and (not sources or "CSO" in sources)
        ]
        if not chosen:
            return Reply({"status": "NoProfiles"})
        per_evse: dict[int, list[dict[str, Any]]] = {}
        for profile in chosen:
            per_evse.setdefault(profile.evse, []).append(profile_payload(profile))
        station = self.station
        request_id = p["requestId"]

        async def report() -> None:
            evses = sorted(per_evse)
            for n, evse in enumerate(evses):
                station.send(
                    "ReportChargingProfiles",
                    {
                        "requestId": request_id,
                        "chargingLimitSource": "CSO",
                        "evseId": evse,
                        "tbc": n < len(evses) - 1,
                        "chargingProfile": per_evse[evse],
                    },
                )

        return Reply({"status": "Accepted"}, then=report)

    async def set_network_profile(self, p: dict[str, Any]) -> Reply:
        """B09: kept in its slot; a profile below the station's security profile is refused
        (a downgrade attack must not succeed, A00)."""
        data = p["connectionData"]
        current = self.model.int_value("SecurityCtrlr", "SecurityProfile")
        if data["securityProfile"] < current:
            return Reply({"status": "Rejected"})
        self.network_profiles[p["configurationSlot"]] = data
        return Reply({"status": "Accepted"})
