"""What the CSMS never sends a station, whoever asks: the specs' guards on CSMS-initiated CALLs.

Pure: each function names the problem (for a 4xx answer) or returns None.
"""

from __future__ import annotations

from typing import Any

from csms.domain.station import AdminState
from csms.domain.version import OcppVersion

# Actions only a station sends (1.6 §4 and the 1.6 security whitepaper; 2.0.1 Part 2, the
# "Charging Station -> CSMS" messages). DataTransfer goes both ways.
STATION_ACTIONS: dict[OcppVersion, frozenset[str]] = {
    OcppVersion.V16: frozenset(
        {
            "Authorize",
            "BootNotification",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "LogStatusNotification",
            "MeterValues",
            "SecurityEventNotification",
            "SignCertificate",
            "SignedFirmwareStatusNotification",
            "StartTransaction",
            "StatusNotification",
            "StopTransaction",
        }
    ),
    OcppVersion.V201: frozenset(
        {
            "Authorize",
            "BootNotification",
            "ClearedChargingLimit",
            "FirmwareStatusNotification",
            "Get15118EVCertificate",
            "GetCertificateStatus",
            "Heartbeat",
            "LogStatusNotification",
            "MeterValues",
            "NotifyChargingLimit",
            "NotifyCustomerInformation",
            "NotifyDisplayMessages",
            "NotifyEVChargingNeeds",
            "NotifyEVChargingSchedule",
            "NotifyEvent",
            "NotifyMonitoringReport",
            "NotifyReport",
            "PublishFirmwareStatusNotification",
            "ReportChargingProfiles",
            "ReservationStatusUpdate",
            "SecurityEventNotification",
            "SignCertificate",
            "StatusNotification",
            "TransactionEvent",
        }
    ),
}
REMOTE_START = frozenset({"RemoteStartTransaction", "RequestStartTransaction"})
REMOTE_START_STOP = REMOTE_START | {"RemoteStopTransaction", "RequestStopTransaction"}
TX_PROFILE = "TxProfile"  # spelled the same in 1.6 and 2.0.1


def direction_problem(version: OcppVersion, action: str) -> str | None:
    """A station-only action sent to a station (the raw passthrough takes any action name)."""
    if action in STATION_ACTIONS[version]:
        return f"{action} is sent by a charging station to the CSMS, never to a station"
    return None


def remote_start_profile_problem(action: str, payload: dict[str, Any]) -> str | None:
    """1.6 §5.11 and 2.0.1 F01.FR.09: the profile of a remote start is a TxProfile."""
    profile = payload.get("chargingProfile")
    if action not in REMOTE_START or not isinstance(profile, dict):
        return None
    purpose = profile.get("chargingProfilePurpose")
    if purpose != TX_PROFILE:
        return f"the charging profile of a remote start must be a {TX_PROFILE}, not {purpose}"
    return None


def registration_problem(state: AdminState, station_id: str, action: str) -> str | None:
    """What the station's registration forbids the CSMS to send it.

    Rejected (a blocked station): nothing at all (2.0.1 B03.FR.03; 1.6 §4.2 "SHOULD NOT
    initiate any messages"). Pending: the CSMS may read and configure the station and trigger
    its boot (1.6 §4.2; 2.0.1 B02.FR.01, TC_B_31), but remote start and stop are "not
    allowed" (1.6 §4.2) and a 2.0.1 station rejects them (B02.FR.05).
    """
    if state is AdminState.BLOCKED:
        return (
            f"station {station_id} is blocked (its boot is answered Rejected): the CSMS sends "
            f"it nothing (OCPP 2.0.1 B03.FR.03)"
        )
    if state is AdminState.PENDING and action in REMOTE_START_STOP:
        return (
            f"station {station_id} is pending (its boot is answered Pending): {action} is not "
            f"allowed until it is accepted"
        )
    return None
