"""Bodies of the device-model, monitoring, display, customer-data and network commands.

Version-neutral like the models in api/schemas.py; `csms.ocpp201.device_commands` turns them
into 2.0.1 CALLs and `csms.ocpp16.device_commands` says which have no 1.6 equivalent. Limits
follow the 2.0.1 schemas (CiString50 names, 512-character messages), so nothing the station
would refuse as malformed is sent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from csms.api.bounds import Instant
from csms.api.schemas import MAX_ID, Strict

MAX_INT32 = 2**31 - 1
Name = Field(min_length=1, max_length=50)  # 2.0.1 CiString50: component/variable names
OptionalName = Field(default=None, min_length=1, max_length=50)
Severity = Field(ge=0, le=9, description="0 Danger ... 9 Debug (2.0.1 Part 2 N, severity levels)")
TransactionRef = Field(
    default=None, gt=0, le=MAX_ID, description="the CSMS transaction id (as listed by the API)"
)


class ComponentRef(Strict):
    """A component and, optionally, one of its variables (GetReport / GetMonitoringReport)."""

    component: str = Name
    component_instance: str | None = OptionalName
    evse_id: int | None = Field(default=None, ge=0, le=MAX_INT32)
    connector_id: int | None = Field(default=None, ge=1, le=MAX_INT32)
    variable: str | None = OptionalName
    variable_instance: str | None = OptionalName

    @model_validator(mode="after")
    def _connector_on_evse(self) -> ComponentRef:
        if self.connector_id is not None and self.evse_id is None:
            raise ValueError("connector_id needs evse_id")
        if self.variable_instance is not None and self.variable is None:
            raise ValueError("variable_instance needs variable")
        return self


class GetBaseReport(Strict):
    report_base: Literal["ConfigurationInventory", "FullInventory", "SummaryInventory"] = (
        "FullInventory"
    )


class GetReport(Strict):
    component_variables: list[ComponentRef] = Field(default_factory=list, max_length=100)
    criteria: list[Literal["Active", "Available", "Enabled", "Problem"]] = Field(
        default_factory=list, max_length=4
    )


MonitoringCriterion = Literal["ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring"]


class GetMonitoringReport(Strict):
    component_variables: list[ComponentRef] = Field(default_factory=list, max_length=100)
    criteria: list[MonitoringCriterion] = Field(default_factory=list, max_length=3)


class MonitorSetting(Strict):
    component: str = Name
    component_instance: str | None = OptionalName
    evse_id: int | None = Field(default=None, ge=0, le=MAX_INT32)
    connector_id: int | None = Field(default=None, ge=1, le=MAX_INT32)
    variable: str = Name
    variable_instance: str | None = OptionalName
    type: Literal["UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"]
    value: float = Field(
        allow_inf_nan=False, description="threshold, delta, or seconds for the periodic types"
    )
    severity: int = Severity
    transaction: bool = Field(default=False, description="monitor only during a transaction")
    id: int | None = Field(
        default=None, ge=0, le=MAX_INT32, description="an existing monitor to replace"
    )

    @model_validator(mode="after")
    def _connector_on_evse(self) -> MonitorSetting:
        if self.connector_id is not None and self.evse_id is None:
            raise ValueError("connector_id needs evse_id")
        if self.type in ("Periodic", "PeriodicClockAligned") and self.value <= 0:
            raise ValueError("a periodic monitor's value is its interval in seconds: > 0")
        return self


class SetVariableMonitoring(Strict):
    monitors: list[MonitorSetting] = Field(min_length=1, max_length=100)


class SetMonitoringBase(Strict):
    base: Literal["All", "FactoryDefault", "HardWiredOnly"]


class SetMonitoringLevel(Strict):
    severity: int = Severity


class ClearVariableMonitoring(Strict):
    ids: list[int] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _ids_fit(self) -> ClearVariableMonitoring:
        if any(not 0 <= i <= MAX_INT32 for i in self.ids):
            raise ValueError("monitor ids are OCPP integers >= 0")
        return self


Priority = Literal["AlwaysFront", "InFront", "NormalCycle"]
State = Literal["Charging", "Faulted", "Idle", "Unavailable"]


class SetDisplayMessage(Strict):
    id: int = Field(ge=0, le=MAX_INT32)
    priority: Priority = "NormalCycle"
    content: str = Field(min_length=1, max_length=512)
    format: Literal["ASCII", "HTML", "URI", "UTF8"] = "UTF8"
    language: str | None = Field(default=None, min_length=1, max_length=8, description="RFC 5646")
    state: State | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    transaction_id: int | None = TransactionRef

    @model_validator(mode="after")
    def _in_order(self) -> SetDisplayMessage:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class GetDisplayMessages(Strict):
    ids: list[int] = Field(default_factory=list, max_length=100)
    priority: Priority | None = None
    state: State | None = None


class ClearDisplayMessage(Strict):
    id: int = Field(ge=0, le=MAX_INT32)


class CertificateHash(Strict):
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: str = Field(min_length=1, max_length=128)
    issuer_key_hash: str = Field(min_length=1, max_length=128)
    serial_number: str = Field(min_length=1, max_length=40)


class CustomerInformation(Strict):
    report: bool = Field(default=True, description="have the station send what it holds")
    clear: bool = Field(default=False, description="have the station delete what it holds")
    customer_identifier: str | None = Field(default=None, min_length=1, max_length=64)
    id_token: str | None = Field(default=None, min_length=1, max_length=36)
    id_token_type: str = Field(default="ISO14443", max_length=20)
    customer_certificate: CertificateHash | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> CustomerInformation:
        # 2.0.1 CustomerInformationRequest: one of the three identifies the customer (N09)
        given = [self.customer_identifier, self.id_token, self.customer_certificate]
        if sum(g is not None for g in given) != 1:
            raise ValueError(
                "name the customer with exactly one of customer_identifier, id_token, "
                "customer_certificate"
            )
        if not (self.report or self.clear):
            raise ValueError("ask for report, clear, or both")
        return self


class GetLocalListVersion(Strict):
    pass


class GetTransactionStatus(Strict):
    transaction_id: int | None = TransactionRef


class GetChargingProfiles(Strict):
    evse_id: int | None = Field(default=None, ge=0, le=MAX_INT32)
    purpose: Literal["station_max", "tx_default", "tx"] | None = None
    stack_level: int | None = Field(default=None, ge=0, le=MAX_INT32)
    profile_ids: list[int] = Field(default_factory=list, max_length=100)
    limit_sources: list[Literal["EMS", "Other", "SO", "CSO"]] = Field(
        default_factory=list, max_length=4
    )


class Apn(Strict):
    apn: str = Field(min_length=1, max_length=512)
    authentication: Literal["CHAP", "NONE", "PAP", "AUTO"] = "AUTO"
    user_name: str | None = Field(default=None, max_length=20)
    password: str | None = Field(default=None, max_length=20)
    sim_pin: int | None = Field(default=None, ge=0, le=99999999)
    preferred_network: str | None = Field(default=None, max_length=6)
    use_only_preferred_network: bool | None = None


class Vpn(Strict):
    server: str = Field(min_length=1, max_length=512)
    user: str = Field(min_length=1, max_length=20)
    group: str | None = Field(default=None, max_length=20)
    password: str = Field(min_length=1, max_length=20)
    key: str = Field(min_length=1, max_length=255)
    type: Literal["IKEv2", "IPSec", "L2TP", "PPTP"]


class SetNetworkProfile(Strict):
    slot: int = Field(ge=0, le=MAX_INT32, description="the configurationSlot to write")
    csms_url: str = Field(
        min_length=1, max_length=512, pattern=r"^wss?://", description="ws:// or wss:// URL"
    )
    security_profile: int = Field(ge=0, le=3)
    interface: Literal[
        "Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1", "Wireless2", "Wireless3"
    ] = "Wired0"
    message_timeout_s: int = Field(default=30, ge=1, le=MAX_INT32)
    apn: Apn | None = None
    vpn: Vpn | None = None

    @model_validator(mode="after")
    def _tls_for_profiles(self) -> SetNetworkProfile:
        # 2.0.1 Part 2 A00: profiles 2 and 3 are TLS (wss); 0 and 1 may be plain ws
        if self.security_profile >= 2 and not self.csms_url.startswith("wss://"):
            raise ValueError("security profiles 2 and 3 need a wss:// csms_url")
        return self


DEVICE_COMMAND_MODELS: dict[str, type[Strict]] = {
    "get-base-report": GetBaseReport,
    "get-report": GetReport,
    "get-monitoring-report": GetMonitoringReport,
    "set-variable-monitoring": SetVariableMonitoring,
    "set-monitoring-base": SetMonitoringBase,
    "set-monitoring-level": SetMonitoringLevel,
    "clear-variable-monitoring": ClearVariableMonitoring,
    "set-display-message": SetDisplayMessage,
    "get-display-messages": GetDisplayMessages,
    "clear-display-message": ClearDisplayMessage,
    "customer-information": CustomerInformation,
    "get-local-list-version": GetLocalListVersion,
    "get-transaction-status": GetTransactionStatus,
    "get-charging-profiles": GetChargingProfiles,
    "set-network-profile": SetNetworkProfile,
}
