"""The OCPP 1.6 configuration keys (§9) this charge point supports, with its defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulators.configuration import KeySpec, KeyType

if TYPE_CHECKING:
    from simulators.station.station import Station

# Measurands this meter can produce (others are Rejected by ChangeConfiguration).
MEASURANDS = frozenset(
    {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Power.Offered",
        "Current.Import",
        "Current.Offered",
        "Voltage",
        "SoC",
    }
)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def key_specs(station: Station) -> list[KeySpec]:
    """The §9 keys this charge point supports, with its defaults."""
    config = station.config
    sampled = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage"
    if config.kind.is_dc:
        sampled += ",SoC"
    measurands = MEASURANDS
    return [
        KeySpec("AllowOfflineTxForUnknownId", KeyType.BOOL, _bool(config.offline_unknown_allowed)),
        KeySpec("AuthorizationCacheEnabled", KeyType.BOOL, "true"),
        KeySpec("AuthorizeRemoteTxRequests", KeyType.BOOL, "false"),
        KeySpec("ClockAlignedDataInterval", KeyType.INT, "0", min_int=0),
        KeySpec("ConnectionTimeOut", KeyType.INT, "60", min_int=1),
        KeySpec("GetConfigurationMaxKeys", KeyType.INT, "100", readonly=True),
        KeySpec("HeartbeatInterval", KeyType.INT, str(config.heartbeat_interval), min_int=0),
        KeySpec("LocalAuthorizeOffline", KeyType.BOOL, "true"),
        KeySpec("LocalPreAuthorize", KeyType.BOOL, "false"),
        KeySpec(
            "MeterValuesAlignedData",
            KeyType.LIST,
            "Energy.Active.Import.Register",
            members=measurands,
            max_items=8,
        ),
        KeySpec("MeterValuesAlignedDataMaxLength", KeyType.INT, "8", readonly=True),
        KeySpec("MeterValuesSampledData", KeyType.LIST, sampled, members=measurands, max_items=8),
        KeySpec("MeterValuesSampledDataMaxLength", KeyType.INT, "8", readonly=True),
        KeySpec("MeterValueSampleInterval", KeyType.INT, str(config.meter_interval), min_int=0),
        KeySpec("NumberOfConnectors", KeyType.INT, str(config.evses), readonly=True),
        KeySpec("ResetRetries", KeyType.INT, "3", min_int=0),
        KeySpec("StopTransactionOnEVSideDisconnect", KeyType.BOOL, "true"),
        KeySpec("StopTransactionOnInvalidId", KeyType.BOOL, "true"),
        KeySpec("StopTxnAlignedData", KeyType.LIST, "", members=measurands, max_items=8),
        KeySpec(
            "StopTxnSampledData",
            KeyType.LIST,
            "Energy.Active.Import.Register",
            members=measurands,
            max_items=8,
        ),
        KeySpec(
            "SupportedFeatureProfiles",
            KeyType.LIST,
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
            "RemoteTrigger",
            readonly=True,
        ),
        KeySpec("TransactionMessageAttempts", KeyType.INT, "3", min_int=1, max_int=10),
        KeySpec("TransactionMessageRetryInterval", KeyType.INT, "5", min_int=0),
        KeySpec("UnlockConnectorOnEVSideDisconnect", KeyType.BOOL, "true"),
        KeySpec("WebSocketPingInterval", KeyType.INT, str(config.ping_interval), min_int=0),
        KeySpec("LocalAuthListEnabled", KeyType.BOOL, "true"),
        KeySpec("LocalAuthListMaxLength", KeyType.INT, "1000", readonly=True),
        KeySpec("SendLocalListMaxLength", KeyType.INT, "100", readonly=True),
        KeySpec("ReserveConnectorZeroSupported", KeyType.BOOL, "true", readonly=True),
        KeySpec("ChargeProfileMaxStackLevel", KeyType.INT, "10", readonly=True),
        KeySpec(
            "ChargingScheduleAllowedChargingRateUnit", KeyType.LIST, "Current,Power", readonly=True
        ),
        KeySpec("ChargingScheduleMaxPeriods", KeyType.INT, "24", readonly=True),
        KeySpec("MaxChargingProfilesInstalled", KeyType.INT, "20", readonly=True),
        KeySpec(
            "SupportedFileTransferProtocols", KeyType.LIST, "FTP,FTPS,HTTP,HTTPS", readonly=True
        ),
        # Security whitepaper (edition 2) §1.3: profile in use; the Basic password is write-only.
        KeySpec("SecurityProfile", KeyType.INT, "1" if config.password else "0", readonly=True),
        KeySpec(
            "AuthorizationKey",
            KeyType.STRING,
            config.password or "",
            write_only=True,
            min_length=16,
            max_length=40,
        ),
    ]
