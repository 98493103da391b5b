"""Response bodies of the device-model, report, monitor, display-message and EV reads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

ReportKindName = Literal[
    "device_model", "monitoring", "customer_information", "display_messages", "charging_profiles"
]


class DeviceVariable(BaseModel):
    """One attribute of the station's 2.0.1 device model, as NotifyReport last said."""

    component: str
    component_instance: str
    evse_id: int = Field(description="-1: the component is not on an EVSE")
    connector_id: int = Field(description="-1: not on a connector")
    variable: str
    variable_instance: str
    attribute_type: str = Field(description="Actual, Target, MinSet, MaxSet")
    value: str | None
    mutability: str | None
    data_type: str | None
    updated_at: datetime


class ReportSummary(BaseModel):
    """A request answered by a report in parts (2.0.1 requestId, seqNo, tbc)."""

    kind: ReportKindName
    request_id: int
    command_id: int | None = Field(description="the command that asked; null if not known")
    requested_by: str | None
    requested_at: datetime | None
    answer: str | None = Field(description="the station's status answer to the request")
    state: Literal["requested", "refused", "receiving", "complete"] = Field(
        description="complete once the part with tbc=false arrived; refused when the answer "
        "said no parts follow (EmptyResultSet, Rejected, Unknown, NoProfiles, ...)"
    )
    parts: int
    completed_at: datetime | None
    updated_at: datetime


class ReportPartInfo(BaseModel):
    seq_no: int = Field(description="the station's seqNo; arrival order where it sends none")
    tbc: bool
    generated_at: datetime | None
    received_at: datetime


class Report(ReportSummary):
    missing_seq_nos: list[int] = Field(
        description="seqNos from 0 to the last that never came (the first 100)"
    )
    missing_count: int = Field(description="how many seqNos from 0 to the last never came")
    part_list: list[ReportPartInfo]
    content: list[Any] | str = Field(
        description="the parts' content in seqNo order: reportData, monitor, messageInfo, "
        "per-EVSE charging profiles, or the customer data text joined"
    )


class StationMonitor(BaseModel):
    monitor_id: int
    component: str
    component_instance: str
    evse_id: int
    connector_id: int
    variable: str
    variable_instance: str
    monitor_type: str
    value: Decimal
    severity: int
    in_transaction: bool
    request_id: int | None = Field(description="the report that listed it; null: set by command")
    updated_at: datetime


class StationDisplayMessage(BaseModel):
    message_id: int
    priority: str
    state: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    transaction_id: str | None
    message: dict[str, Any] = Field(description="format, language, content")
    display: dict[str, Any] | None
    request_id: int | None = Field(description="the report that listed it; null: set by command")
    updated_at: datetime


class EvCharging(BaseModel):
    """Per EVSE, the last charging needs and schedule an ISO 15118 EV sent (K15, K17)."""

    evse_id: int
    requested_transfer: str | None
    departs_at: datetime | None
    max_schedule_tuples: int | None
    needs: dict[str, Any] | None
    needs_received_at: datetime | None
    time_base: datetime | None
    schedule: dict[str, Any] | None
    schedule_received_at: datetime | None


class FirmwarePublication(BaseModel):
    request_id: int | None
    status: str
    locations: list[str]
    updated_at: datetime
