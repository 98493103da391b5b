"""What a 2.0.1 station's answer to a command tells the CSMS (pure; payloads are schema-valid)."""

from __future__ import annotations

from typing import Any

from csms.domain.reports import REQUESTING_COMMANDS, AnswerFacts, Monitor
from csms.ocpp201 import notify_mapping

Payload = dict[str, Any]


def _installed_monitor(asked: Payload, result: Payload) -> Monitor:
    """A monitor the station accepted: its id from the answer, the rest as requested (N04)."""
    return Monitor(
        monitor_id=result["id"],
        where=notify_mapping.variable_ref(asked["component"], asked["variable"]),
        monitor_type=asked["type"],
        value=notify_mapping.decimal(asked["value"]),
        severity=asked["severity"],
        in_transaction=bool(asked.get("transaction", False)),
    )


def answer_facts(command: str, request: Payload, response: Payload) -> AnswerFacts:
    """Facts from the answer to `command` (the version-neutral name) sent as `request`."""
    kind = REQUESTING_COMMANDS.get(command)
    if command == "customer-information" and not request["report"]:
        return AnswerFacts()  # N10: a clear without a report is answered, nothing follows
    if kind is not None:
        return AnswerFacts(report=(kind, request["requestId"], response["status"]))
    if command == "set-variable-monitoring":
        # N04: results come in the order of the request; an accepted one carries the id.
        pairs = zip(request["setMonitoringData"], response["setMonitoringResult"], strict=False)
        return AnswerFacts(
            monitors_set=tuple(
                _installed_monitor(asked, result)
                for asked, result in pairs
                if result["status"] == "Accepted" and result.get("id") is not None
            )
        )
    if command == "clear-variable-monitoring":
        # N06: NotFound means it is not there either way.
        return AnswerFacts(
            monitors_cleared=tuple(
                r["id"]
                for r in response["clearMonitoringResult"]
                if r["status"] in ("Accepted", "NotFound")
            )
        )
    if command == "set-display-message" and response["status"] == "Accepted":
        shown = notify_mapping.display_messages({"messageInfo": [request["message"]]})
        return AnswerFacts(messages_shown=tuple(shown))
    if command == "clear-display-message" and response["status"] in ("Accepted", "Unknown"):
        return AnswerFacts(message_cleared=request["id"])  # O05: Unknown: not there either
    return AnswerFacts()
