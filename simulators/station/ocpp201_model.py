"""The OCPP 2.0.1 device model this station implements (Part 2, appendix 3).

The controllers it has with their required variables, and one EVSE and one Connector component
per EVSE.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulators import timestamps
from simulators.device_model import ComponentRef, Variable, VariableRef

if TYPE_CHECKING:
    from simulators.station.station import Station

CONNECTOR = 1  # every EVSE has one connector

MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "SoC",
)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _var(
    component: str,
    variable: str,
    value: str,
    data_type: str = "string",
    mutability: str = "ReadWrite",
    *,
    instance: str | None = None,
    evse: int | None = None,
    connector: int | None = None,
    **characteristics: Any,
) -> Variable:
    for limit in ("min_limit", "max_limit"):
        if limit in characteristics:
            characteristics[limit] = Decimal(characteristics[limit])
    return Variable(
        ComponentRef(component, evse=evse, connector=connector),
        VariableRef(variable, instance),
        value,
        data_type,
        mutability,
        **characteristics,
    )


def device_model(station: Station) -> list[Variable]:
    """The variables this station implements: the required ones of each controller it has."""
    config = station.config
    kind = config.kind
    backoff = config.backoff
    updated = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage"
    if kind.is_dc:
        updated += ",SoC"
    ro = "ReadOnly"
    variables = [
        _var(
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            str(config.heartbeat_interval),
            "integer",
            unit="s",
            min_limit=0,
        ),
        _var(
            "OCPPCommCtrlr",
            "MessageTimeout",
            str(math.ceil(config.call_timeout)),
            "integer",
            ro,
            instance="Default",
            unit="s",
        ),
        _var(
            "OCPPCommCtrlr",
            "MessageAttempts",
            "3",
            "integer",
            instance="TransactionEvent",
            min_limit=1,
            max_limit=10,
        ),
        _var(
            "OCPPCommCtrlr",
            "MessageAttemptInterval",
            "5",
            "integer",
            instance="TransactionEvent",
            unit="s",
            min_limit=0,
        ),
        _var("OCPPCommCtrlr", "NetworkConfigurationPriority", "0", "SequenceList", ro),
        _var("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "3", "integer", min_limit=1),
        _var("OCPPCommCtrlr", "OfflineThreshold", "60", "integer", unit="s", min_limit=0),
        _var("OCPPCommCtrlr", "ResetRetries", "3", "integer", min_limit=0),
        _var(
            "OCPPCommCtrlr",
            "RetryBackOffRepeatTimes",
            str(backoff.repeat_times),
            "integer",
            min_limit=0,
        ),
        _var(
            "OCPPCommCtrlr",
            "RetryBackOffRandomRange",
            str(math.ceil(backoff.random_range)),
            "integer",
            unit="s",
            min_limit=0,
        ),
        _var(
            "OCPPCommCtrlr",
            "RetryBackOffWaitMinimum",
            str(math.ceil(backoff.wait_minimum)),
            "integer",
            unit="s",
            min_limit=0,
        ),
        _var("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "true", "boolean"),
        _var(
            "OCPPCommCtrlr",
            "WebSocketPingInterval",
            str(config.ping_interval),
            "integer",
            unit="s",
            min_limit=0,
        ),
        _var(
            "OCPPCommCtrlr",
            "FileTransferProtocols",
            "FTP,FTPS,HTTP,HTTPS",
            "MemberList",
            ro,
            values_list=("FTP", "FTPS", "HTTP", "HTTPS", "SFTP"),
        ),
        _var("ClockCtrlr", "DateTime", timestamps.isoformat(timestamps.utcnow()), "dateTime", ro),
        _var(
            "ClockCtrlr",
            "TimeSource",
            "Heartbeat",
            "SequenceList",
            values_list=("Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork"),
        ),
        _var("DeviceDataCtrlr", "ItemsPerMessage", "50", "integer", ro, instance="GetReport"),
        _var("DeviceDataCtrlr", "ItemsPerMessage", "50", "integer", ro, instance="GetVariables"),
        _var("DeviceDataCtrlr", "ItemsPerMessage", "50", "integer", ro, instance="SetVariables"),
        _var("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", ro, instance="GetReport"),
        _var("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", ro, instance="GetVariables"),
        _var("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", ro, instance="SetVariables"),
        _var("AuthCtrlr", "Enabled", "true", "boolean"),
        _var("AuthCtrlr", "AuthorizeRemoteStart", "false", "boolean"),
        _var("AuthCtrlr", "LocalAuthorizeOffline", "true", "boolean"),
        _var("AuthCtrlr", "LocalPreAuthorize", "false", "boolean"),
        _var(
            "AuthCtrlr",
            "OfflineTxForUnknownIdEnabled",
            _bool(config.offline_unknown_allowed),
            "boolean",
        ),
        _var("AuthCacheCtrlr", "Enabled", "true", "boolean"),
        _var("AuthCacheCtrlr", "Available", "true", "boolean", ro),
        _var("AuthCacheCtrlr", "LifeTime", "86400", "integer", unit="s", min_limit=0),
        _var(
            "AuthCacheCtrlr",
            "Policy",
            "LRU",
            "OptionList",
            ro,
            values_list=("LRU", "LFU", "FIFO", "CUSTOM"),
        ),
        _var("LocalAuthListCtrlr", "Enabled", "true", "boolean"),
        _var("LocalAuthListCtrlr", "Available", "true", "boolean", ro),
        _var("LocalAuthListCtrlr", "Entries", "0", "integer", ro),
        _var("LocalAuthListCtrlr", "ItemsPerMessage", "100", "integer", ro),
        _var("LocalAuthListCtrlr", "BytesPerMessage", "65000", "integer", ro),
        _var("ReservationCtrlr", "Enabled", "true", "boolean"),
        _var("ReservationCtrlr", "Available", "true", "boolean", ro),
        _var("ReservationCtrlr", "NonEvseSpecific", "true", "boolean", ro),
        _var("SmartChargingCtrlr", "Enabled", "true", "boolean"),
        _var("SmartChargingCtrlr", "Available", "true", "boolean", ro),
        _var("SmartChargingCtrlr", "Entries", "0", "integer", ro, instance="ChargingProfiles"),
        _var("SmartChargingCtrlr", "LimitChangeSignificance", "0.1", "decimal", min_limit=0),
        _var("SmartChargingCtrlr", "PeriodsPerSchedule", "24", "integer", ro),
        _var("SmartChargingCtrlr", "ProfileStackLevel", "10", "integer", ro),
        _var("SmartChargingCtrlr", "RateUnit", "A,W", "MemberList", ro, values_list=("A", "W")),
        _var("SampledDataCtrlr", "Enabled", "true", "boolean"),
        _var(
            "SampledDataCtrlr",
            "TxStartedMeasurands",
            "Energy.Active.Import.Register",
            "MemberList",
            values_list=MEASURANDS,
        ),
        _var(
            "SampledDataCtrlr", "TxUpdatedMeasurands", updated, "MemberList", values_list=MEASURANDS
        ),
        _var(
            "SampledDataCtrlr",
            "TxUpdatedInterval",
            str(config.meter_interval),
            "integer",
            unit="s",
            min_limit=0,
        ),
        _var(
            "SampledDataCtrlr",
            "TxEndedMeasurands",
            "Energy.Active.Import.Register",
            "MemberList",
            values_list=MEASURANDS,
        ),
        _var("SampledDataCtrlr", "TxEndedInterval", "0", "integer", unit="s", min_limit=0),
        _var("TxCtrlr", "EVConnectionTimeOut", "60", "integer", unit="s", min_limit=1),
        _var("TxCtrlr", "StopTxOnEVSideDisconnect", "true", "boolean", ro),
        _var("TxCtrlr", "StopTxOnInvalidId", "true", "boolean"),
        _var(
            "TxCtrlr",
            "TxStartPoint",
            "Authorized",
            "MemberList",
            ro,
            values_list=(
                "ParkingBayOccupancy",
                "EVConnected",
                "Authorized",
                "DataSigned",
                "PowerPathClosed",
                "EnergyTransfer",
            ),
        ),
        _var(
            "TxCtrlr",
            "TxStopPoint",
            "EVConnected,Authorized",
            "MemberList",
            ro,
            values_list=(
                "ParkingBayOccupancy",
                "EVConnected",
                "Authorized",
                "DataSigned",
                "PowerPathClosed",
                "EnergyTransfer",
            ),
        ),
        _var("SecurityCtrlr", "SecurityProfile", "1" if config.password else "0", "integer", ro),
        _var("SecurityCtrlr", "Identity", config.station_id, "string", ro),
        _var("SecurityCtrlr", "OrganizationName", config.vendor, "string"),
        _var(
            "SecurityCtrlr",
            "BasicAuthPassword",
            config.password or "",
            "string",
            "WriteOnly",
            max_length=40,
        ),
        _var(
            "ChargingStation",
            "AvailabilityState",
            "Available",
            "OptionList",
            ro,
            values_list=("Available", "Occupied", "Reserved", "Unavailable", "Faulted"),
        ),
        _var("ChargingStation", "Available", "true", "boolean", ro),
        _var("ChargingStation", "Model", config.model, "string", ro),
        _var("ChargingStation", "VendorName", config.vendor, "string", ro),
        _var("ChargingStation", "SupplyPhases", str(kind.phases), "integer", ro),
    ]
    for evse in station.evses.values():
        variables += [
            _var(
                "EVSE",
                "AvailabilityState",
                "Available",
                "OptionList",
                ro,
                evse=evse.id,
                values_list=("Available", "Occupied", "Reserved", "Unavailable", "Faulted"),
            ),
            _var("EVSE", "Available", "true", "boolean", ro, evse=evse.id),
            _var(
                "EVSE",
                "Power",
                str(kind.rated_w),
                "decimal",
                ro,
                evse=evse.id,
                unit="W",
                max_limit=kind.rated_w,
            ),
            _var("EVSE", "SupplyPhases", str(kind.phases), "integer", ro, evse=evse.id),
            _var(
                "Connector",
                "AvailabilityState",
                "Available",
                "OptionList",
                ro,
                evse=evse.id,
                connector=CONNECTOR,
                values_list=("Available", "Occupied", "Reserved", "Unavailable", "Faulted"),
            ),
            _var(
                "Connector",
                "ConnectorType",
                evse.connector_type,
                "string",
                ro,
                evse=evse.id,
                connector=CONNECTOR,
            ),
        ]
    return variables
