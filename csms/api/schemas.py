"""Request and response bodies of the operator API (pydantic), validated before any service runs.

Command parameter models are version-neutral; `csms.ocpp16.commands` / `csms.ocpp201.commands`
turn them into the station's OCPP CALL.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from csms.api.bounds import Day, Instant
from csms.domain.scope import MAX_COUNTIES, MAX_COUNTY_LENGTH, MAX_OWNER_UNIT_LENGTH, Scope
from csms.domain.station import MAX_INT32, MAX_STATION_ID_LENGTH, station_id_problem

IdTokenText = Field(min_length=1, max_length=36)


MAX_ID = 2**63 - 1  # PostgreSQL bigint
MAX_OFFSET = 10_000_000


def reject_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL; refuse it here instead of failing in the database."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)  # a key of a JSON object is text in jsonb too
            reject_nul(item)
    elif isinstance(value, list):
        for item in value:
            reject_nul(item)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        return reject_nul(data)


# --- stations -------------------------------------------------------------------------------


class StationMetadata(Strict):
    county: str | None = Field(default=None, max_length=64)
    site_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    notes: str | None = Field(default=None, max_length=2000)
    operator_id: str | None = Field(default=None, min_length=1, max_length=64)
    owner_unit: str | None = Field(default=None, min_length=1, max_length=200)
    rated_power_kw: Decimal | None = Field(default=None, gt=0, le=10000, decimal_places=2)
    meter_cert_number: str | None = Field(
        default=None, min_length=1, max_length=64, description="JJG 1148/1149 certificate"
    )
    meter_cert_expires_on: Day | None = None


class StationCreate(StationMetadata):
    id: str = Field(min_length=1, max_length=MAX_STATION_ID_LENGTH)
    password: str | None = Field(default=None, min_length=16, max_length=40)
    security_profile: int | None = Field(default=None, ge=0, le=3)
    admin_state: Literal["active", "pending", "blocked"] = "active"

    @field_validator("id")
    @classmethod
    def _usable_id(cls, value: str) -> str:
        """The same rule the gateway applies at the handshake, so every id can connect."""
        problem = station_id_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class StationUpdate(StationMetadata):
    password: str | None = Field(default=None, min_length=16, max_length=40)
    clear_password: bool = False
    security_profile: int | None = Field(default=None, ge=0, le=3)
    admin_state: Literal["active", "pending", "blocked"] | None = None


class Connector(BaseModel):
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    info: str | None
    status_at: datetime


class LockoutSummary(BaseModel):
    """The open safety lockout of a station."""

    id: int
    hazard: str
    locked_by: str
    locked_at: datetime


class Station(BaseModel):
    id: str
    admin_state: str
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    connected: bool
    node_id: str | None
    connected_at: datetime | None
    disconnected_at: datetime | None
    last_seen_at: datetime | None
    last_heartbeat_at: datetime | None
    offline_reason: str | None
    last_boot_status: str | None
    has_password: bool
    security_profile: int | None
    county: str | None
    site_name: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    notes: str | None
    firmware_status: str | None
    created_at: datetime
    operator_id: str | None
    owner_unit: str | None
    rated_power_kw: Decimal | None
    meter_cert_number: str | None
    meter_cert_expires_on: date | None
    locked: bool = Field(default=False, description="under a safety lockout: starts refused")
    lockout: LockoutSummary | None = None
    decommissioned_at: datetime | None = Field(
        default=None, description="set while decommissioned: refused at the handshake"
    )
    decommissioned_by: str | None = None
    decommission_reason: str | None = None


class StationDecommissioned(Station):
    open_transactions: list[int] = Field(
        description="left open by force=true: a stop the station sends later still closes them"
    )


# --- tokens ---------------------------------------------------------------------------------


class TokenCreate(Strict):
    id_token: str = IdTokenText
    token_type: str = Field(default="ISO14443", min_length=1, max_length=20)
    group_id: str | None = Field(default=None, min_length=1, max_length=36)
    expires_at: Instant | None = None
    blocked: bool = False
    note: str | None = Field(default=None, max_length=500)


class TokenUpdate(Strict):
    token_type: str | None = Field(default=None, min_length=1, max_length=20)
    group_id: str | None = Field(default=None, min_length=1, max_length=36)
    clear_group: bool = False
    expires_at: Instant | None = None
    clear_expiry: bool = False
    blocked: bool | None = None
    note: str | None = Field(default=None, max_length=500)


class Token(BaseModel):
    id_token: str
    token_type: str
    group_id: str | None
    expires_at: datetime | None
    blocked: bool
    deleted_at: datetime | None = Field(
        default=None, description="set once deleted: answered as unknown (Invalid)"
    )


class OperatorAction(BaseModel):
    """One audited operator action on a station, a token or an operator account."""

    id: int
    at: datetime
    actor: str
    action: str = Field(
        description="station.decommission, station.recommission, token.create, token.update, "
        "token.block, token.unblock, token.delete, token.recreate, "
        "user.create, user.update, user.delete, user.sign-in, user.sign-in-failed, "
        "user.sign-out, user.password-change, ..."
    )
    subject_kind: Literal["station", "token", "user"]
    subject_id: str
    detail: dict[str, Any]


# --- transactions ---------------------------------------------------------------------------


class Transaction(BaseModel):
    id: int
    station_id: str
    ocpp_version: str
    station_tx_id: str | None
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    stop_id_token: str | None
    auth_status: str | None = Field(
        description="the start's authorization (Accepted, Invalid, Blocked, Expired, "
        "ConcurrentTx, NotAtThisTime); null when unknown"
    )
    refused: bool = Field(
        description="the CSMS refused the start (auth_status not Accepted): never billed, "
        "never counted as a session"
    )
    started_at: datetime | None
    stopped_at: datetime | None
    meter_start_wh: int | None
    meter_stop_wh: int | None
    energy_wh: int | None
    energy_kwh: str | None = Field(description="energy in kWh to 0.001, as text (exact)")
    status: str
    stop_reason: str | None
    orphan: bool
    charging_state: str | None
    offline: bool
    remote_start_id: int | None
    cost: Decimal | None = Field(
        description="CNY: the running cost while open (refreshed every cost interval), "
        "the sum of its CDRs once billed"
    )
    cost_at: datetime | None


class Sample(BaseModel):
    sampled_at: datetime
    evse_id: int
    connector_id: int
    measurand: str
    phase: str
    location: str
    context: str
    unit: str
    value: str | None = Field(description="decimal as text; null when the station sent none")
    raw_value: str | None
    signed_data: dict[str, Any] | None


class SampleConflict(BaseModel):
    """A sample delivered again for a stored key (time, measurand, phase, location, context)
    with another value: acknowledged and kept beside the stored one."""

    sampled_at: datetime
    received_at: datetime
    evse_id: int
    connector_id: int
    measurand: str
    phase: str
    location: str
    context: str
    unit: str
    value: str | None = Field(description="decimal as text: what this delivery said")
    raw_value: str | None
    stored_value: str | None = Field(description="decimal as text: what was stored first")
    stored_unit: str | None


class TransactionDetail(Transaction):
    samples: list[Sample]
    seq_anomalies: list[str] = Field(
        description="2.0.1 sequence anomalies seen: repeated_seq_no, out_of_order, missing_seq_no"
    )
    linked_to: int | None = Field(
        description="1.6: on an orphan stop, the transaction it stopped; on that transaction, "
        "the orphan"
    )
    conflicts: list[SampleConflict] = Field(
        description="the session's samples that conflicted with stored ones"
    )


# --- commands -------------------------------------------------------------------------------


class RemoteStart(Strict):
    id_token: str = IdTokenText
    id_token_type: str = Field(default="ISO14443", max_length=20)
    evse_id: int | None = Field(default=None, ge=1, le=MAX_INT32)
    charging_profile: ChargingProfile | None = None


class RemoteStop(Strict):
    transaction_id: int = Field(
        gt=0, le=MAX_ID, description="the CSMS transaction id (as listed by the API)"
    )


class Reset(Strict):
    kind: Literal["soft", "hard"] = Field(
        default="soft",
        description="soft: 1.6 Soft / 2.0.1 OnIdle; hard: 1.6 Hard / 2.0.1 Immediate",
    )
    evse_id: int | None = Field(
        default=None, ge=1, le=MAX_INT32, description="2.0.1 only: reset one EVSE"
    )


class ChangeAvailability(Strict):
    operative: bool
    evse_id: int = Field(default=0, ge=0, le=MAX_INT32, description="0: the whole station")
    connector_id: int | None = Field(default=None, ge=1, le=MAX_INT32)


class UnlockConnector(Strict):
    evse_id: int = Field(ge=1, le=MAX_INT32)
    connector_id: int = Field(default=1, ge=1, le=MAX_INT32)


class TriggerMessage(Strict):
    message: str = Field(
        min_length=1, max_length=64, description="e.g. BootNotification, Heartbeat, MeterValues"
    )
    evse_id: int | None = Field(default=None, ge=0, le=MAX_INT32)
    connector_id: int | None = Field(default=None, ge=1, le=MAX_INT32)


class GetConfiguration(Strict):
    keys: list[str] = Field(
        default_factory=list,
        description="1.6 keys, or 2.0.1 Component.Variable[.Instance]; empty = all (1.6)",
    )


class SetConfiguration(Strict):
    key: str = Field(min_length=1, max_length=150)
    value: str = Field(max_length=1000)


class ClearCache(Strict):
    pass


class SendLocalList(Strict):
    # 2.0.1 D01.FR.18: versionNumber > 0 (0 means "no list"); an OCPP integer
    version: int = Field(gt=0, le=2**31 - 1)
    update_type: Literal["full", "differential"] = "full"
    id_tokens: list[str] = Field(
        default_factory=list,
        description="tokens from the token store, sent with the status the CSMS would answer",
    )
    remove_id_tokens: list[str] = Field(
        default_factory=list,
        description="differential only: tokens to remove from the station's list",
    )

    @model_validator(mode="after")
    def _removals_are_differential(self) -> SendLocalList:
        if self.remove_id_tokens and self.update_type == "full":
            raise ValueError(
                "a full list replaces the station's list: remove_id_tokens needs "
                "update_type differential"
            )
        return self


class ReserveNow(Strict):
    reservation_id: int = Field(ge=0, le=MAX_INT32)
    id_token: str = IdTokenText
    id_token_type: str = Field(default="ISO14443", max_length=20)
    expires_at: Instant
    evse_id: int | None = Field(default=None, ge=0, le=MAX_INT32, description="none or 0: any EVSE")
    group_id: str | None = Field(default=None, max_length=36)


class CancelReservation(Strict):
    reservation_id: int = Field(ge=0, le=MAX_INT32)


class ChargingPeriod(Strict):
    start_s: int = Field(ge=0, le=MAX_INT32)
    limit: float = Field(ge=0, allow_inf_nan=False)
    phases: int | None = Field(default=None, ge=1, le=3)


class ChargingSchedule(Strict):
    rate_unit: Literal["A", "W"]
    periods: list[ChargingPeriod] = Field(min_length=1, max_length=1024)
    duration_s: int | None = Field(default=None, ge=0, le=MAX_INT32)
    start: Instant | None = None
    min_rate: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class ChargingProfile(Strict):
    id: int = Field(ge=0, le=MAX_INT32)
    stack_level: int = Field(ge=0, le=MAX_INT32)
    purpose: Literal["station_max", "tx_default", "tx"]
    kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency: Literal["Daily", "Weekly"] | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    transaction_id: int | None = Field(
        default=None, gt=0, le=MAX_ID, description="CSMS transaction id (tx only)"
    )
    schedule: ChargingSchedule


class SetChargingProfile(Strict):
    evse_id: int = Field(ge=0, le=MAX_INT32)
    profile: ChargingProfile


class ClearChargingProfile(Strict):
    profile_id: int | None = Field(default=None, ge=0, le=MAX_INT32)
    evse_id: int | None = Field(default=None, ge=0, le=MAX_INT32)
    purpose: Literal["station_max", "tx_default", "tx"] | None = None
    stack_level: int | None = Field(default=None, ge=0, le=MAX_INT32)


class GetCompositeSchedule(Strict):
    evse_id: int = Field(ge=0, le=MAX_INT32)
    duration_s: int = Field(ge=1, le=MAX_INT32)
    rate_unit: Literal["A", "W"] | None = None


class UpdateFirmware(Strict):
    location: str = Field(min_length=1, max_length=512)
    retrieve_at: AwareDatetime
    retries: int | None = Field(default=None, ge=0, le=MAX_INT32)
    retry_interval_s: int | None = Field(default=None, ge=0, le=MAX_INT32)
    signing_certificate: str | None = Field(default=None, max_length=5500)
    signature: str | None = Field(default=None, max_length=800)


class GetDiagnostics(Strict):
    location: str = Field(min_length=1, max_length=512)
    start: Instant | None = None
    stop: AwareDatetime | None = None
    retries: int | None = Field(default=None, ge=0, le=MAX_INT32)
    retry_interval_s: int | None = Field(default=None, ge=0, le=MAX_INT32)


class DataTransfer(Strict):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: str | None = None


COMMAND_MODELS: dict[str, type[Strict]] = {
    "remote-start": RemoteStart,
    "remote-stop": RemoteStop,
    "reset": Reset,
    "change-availability": ChangeAvailability,
    "unlock-connector": UnlockConnector,
    "trigger-message": TriggerMessage,
    "get-configuration": GetConfiguration,
    "set-configuration": SetConfiguration,
    "clear-cache": ClearCache,
    "send-local-list": SendLocalList,
    "reserve-now": ReserveNow,
    "cancel-reservation": CancelReservation,
    "set-charging-profile": SetChargingProfile,
    "clear-charging-profile": ClearChargingProfile,
    "get-composite-schedule": GetCompositeSchedule,
    "update-firmware": UpdateFirmware,
    "get-diagnostics": GetDiagnostics,
    "data-transfer": DataTransfer,
}

RemoteStart.model_rebuild()


class CommandAnswer(BaseModel):
    command_id: int
    station_id: str
    action: str = Field(description="the OCPP action sent")
    request: dict[str, Any]
    response: dict[str, Any] = Field(description="the station's CALLRESULT payload")


class CommandRecord(BaseModel):
    id: int
    requested_by: str
    station_id: str
    command: str
    action: str | None
    request: dict[str, Any]
    origin_node: str
    target_node: str | None
    status: str
    response: dict[str, Any] | None
    error_code: str | None
    error_description: str | None
    requested_at: datetime
    answered_at: datetime | None


# --- scopes and keys ------------------------------------------------------------------------


class ScopeBody(Strict):
    """Some counties (as stations.county names them) or one owner unit, not both."""

    counties: list[Annotated[str, Field(min_length=1, max_length=MAX_COUNTY_LENGTH)]] | None = (
        Field(default=None, min_length=1, max_length=MAX_COUNTIES)
    )
    owner_unit: str | None = Field(default=None, min_length=1, max_length=MAX_OWNER_UNIT_LENGTH)

    @model_validator(mode="after")
    def _one_of(self) -> ScopeBody:
        if (self.counties is None) == (self.owner_unit is None):
            raise ValueError("a scope has either counties or owner_unit")
        return self

    def scope(self) -> Scope:
        found = Scope.of(self.counties, self.owner_unit)
        assert found is not None  # _one_of made sure
        return found


def scope_of(body: ScopeBody | None) -> Scope | None:
    return None if body is None else body.scope()


class ScopeOut(BaseModel):
    """null counties with an owner unit, or the reverse."""

    counties: list[str] | None = None
    owner_unit: str | None = None


class KeyCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "operator", "viewer"]
    scope: ScopeBody | None = Field(default=None, description="null: the whole network")


class Key(BaseModel):
    id: int
    name: str
    role: str
    scope: ScopeOut | None = Field(default=None, description="null: the whole network")
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class NewKey(Key):
    key: str = Field(description="shown once; only its hash is stored")


class Problem(BaseModel):
    """The error body of every non-2xx answer."""

    error: str
    detail: Any = None
