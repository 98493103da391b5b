"""Handlers for the 2.0.1 notifications that answer CSMS requests or come from the EV:
report parts (B07/B08, N02, N09, O04, K09), EV charging needs and schedules (K15-K17) and
firmware publication (L03). Each maps the payload, calls the notification service, answers."""

from __future__ import annotations

from typing import Any

from csms.domain.reports import ReportKind
from csms.ocpp201 import mapping, notify_mapping
from csms.ocpp_shared import SharedHandlers
from csms.services.notifications import NotificationService

Payload = dict[str, Any]


def _service(h: SharedHandlers) -> NotificationService:
    return h.s.services.notifications


async def notify_report(h: SharedHandlers, p: Payload) -> Payload:
    """B07/B08: the attributes merge into the device model; the part joins its request."""
    await h.stations.report_variables(h.id, p, mapping.variable_rows(p.get("reportData", [])))
    part = notify_mapping.part(ReportKind.DEVICE_MODEL, p)
    await _service(h).report_part(h.id, "NotifyReport", part, logged=True)
    return {}


async def notify_monitoring_report(h: SharedHandlers, p: Payload) -> Payload:
    """N02: the monitors listed become the station's known monitors."""
    part = notify_mapping.part(ReportKind.MONITORING, p)
    monitors = notify_mapping.monitors(p)
    await _service(h).report_part(h.id, "NotifyMonitoringReport", part, monitors=monitors)
    return {}


async def notify_customer_information(h: SharedHandlers, p: Payload) -> Payload:
    """N09/N10: the customer data, kept per request until the operator reads it."""
    part = notify_mapping.part(ReportKind.CUSTOMER_INFORMATION, p)
    await _service(h).report_part(h.id, "NotifyCustomerInformation", part)
    return {}


async def notify_display_messages(h: SharedHandlers, p: Payload) -> Payload:
    """O04: the messages listed become the station's known display messages."""
    part = notify_mapping.part(ReportKind.DISPLAY_MESSAGES, p)
    messages = notify_mapping.display_messages(p)
    await _service(h).report_part(h.id, "NotifyDisplayMessages", part, messages=messages)
    return {}


async def report_charging_profiles(h: SharedHandlers, p: Payload) -> Payload:
    """K09: the profiles installed, one part per EVSE and limit source."""
    part = notify_mapping.part(ReportKind.CHARGING_PROFILES, p)
    await _service(h).report_part(h.id, "ReportChargingProfiles", part)
    return {}


async def notify_ev_charging_needs(h: SharedHandlers, p: Payload) -> Payload:
    """K15: Accepted says the CSMS processed the needs, not that it can meet them; this CSMS
    computes no ISO 15118 schedule itself, so it offers none (the station keeps its profiles)."""
    needs = notify_mapping.ev_charging_needs(p)
    await _service(h).ev_charging_needs(h.id, needs, p)
    return {"status": "Accepted"}


async def notify_ev_charging_schedule(h: SharedHandlers, p: Payload) -> Payload:
    """K17: the schedule the EV plans, kept per EVSE; Accepted once stored."""
    evse_id, time_base, schedule = notify_mapping.ev_charging_schedule(p)
    await _service(h).ev_charging_schedule(h.id, evse_id, time_base, schedule, p)
    return {"status": "Accepted"}


async def publish_firmware_status(h: SharedHandlers, p: Payload) -> Payload:
    """L03: a local controller's progress publishing firmware, per requestId."""
    await _service(h).firmware_published(h.id, p)
    return {}
