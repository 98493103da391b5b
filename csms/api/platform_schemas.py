"""Bodies of the monitoring-platform API: secrets are write-only and never echoed back."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from csms.api.schemas import Strict

KIND = Literal["station_info", "connector_status", "charge_order", "station_stats", "charge_status"]
METHOD_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
URL = r"^https?://[^\s]+$"


def _secret(required: bool = False) -> Any:
    return Field(... if required else None, min_length=1, max_length=256, repr=False)


def _key16(required: bool = False) -> Any:
    return Field(... if required else None, min_length=16, max_length=16, repr=False)


class PlatformFields(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    base_url: str | None = Field(default=None, pattern=URL, max_length=500)
    operator_id: str | None = Field(default=None, min_length=1, max_length=32)
    platform_operator_id: str | None = Field(default=None, min_length=1, max_length=32)
    operator_secret: str | None = _secret()
    data_secret: str | None = _key16()
    data_iv: str | None = _key16()
    sig_secret: str | None = _secret()
    # the secret the platform presents to query us; "generate" makes one, shown once
    inbound_secret: str | None = Field(default=None, min_length=1, max_length=256, repr=False)
    spelling: Literal["Sevice", "Service"] | None = None
    methods: dict[KIND, str] | None = None
    kinds: list[KIND] | None = Field(default=None, min_length=1)
    service_tel: str | None = Field(default=None, max_length=32)
    # seconds between live charging data records of a running session (T/CEC 102.4: 50)
    live_interval: int | None = Field(default=None, ge=1, le=3600)

    @field_validator("methods")
    @classmethod
    def _method_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for kind, name in (value or {}).items():
            if not re.match(METHOD_NAME, name):
                raise ValueError(f"method name for {kind} must be letters, digits and _")
        return value

    @field_validator("data_secret", "data_iv")
    @classmethod
    def _ascii(cls, value: str | None) -> str | None:
        if value is not None and not value.isascii():
            raise ValueError("must be 16 ASCII characters (AES-128)")
        return value


class PlatformCreate(PlatformFields):
    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    name: str = Field(min_length=1, max_length=200)
    base_url: str = Field(pattern=URL, max_length=500)
    operator_id: str = Field(min_length=1, max_length=32)
    platform_operator_id: str = Field(min_length=1, max_length=32)
    operator_secret: str = _secret(required=True)
    data_secret: str = _key16(required=True)
    data_iv: str = _key16(required=True)
    sig_secret: str = _secret(required=True)


# columns of a platform that are NOT NULL (the secrets have their own rule in the service)
_REQUIRED_ON_A_PLATFORM = frozenset(
    {
        "name",
        "enabled",
        "base_url",
        "operator_id",
        "platform_operator_id",
        "spelling",
        "methods",
        "kinds",
        "live_interval",
    }
)


class PlatformUpdate(PlatformFields):
    """A PATCH: a field left out is kept; null is no value for a field the platform must have."""

    @model_validator(mode="after")
    def _no_null_for_required(self) -> PlatformUpdate:
        nulled = sorted(
            name
            for name in self.model_fields_set & _REQUIRED_ON_A_PLATFORM
            if getattr(self, name) is None
        )
        if nulled:
            raise ValueError(
                f"{', '.join(nulled)} cannot be null: leave a field out to keep its value"
            )
        return self


class Platform(BaseModel):
    id: str
    name: str
    enabled: bool
    base_url: str
    operator_id: str
    platform_operator_id: str
    spelling: str
    methods: dict[str, str]
    kinds: list[str]
    service_tel: str | None
    live_interval: int
    queries_enabled: bool
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_ret: int | None
    last_msg: str | None
    created_at: datetime
    updated_at: datetime


class NewPlatform(Platform):
    """Creation or a change that generated the inbound secret: it is shown this once."""

    inbound_secret: str | None = None


class PlatformHealth(BaseModel):
    id: str
    name: str
    enabled: bool
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_ret: int | None
    last_msg: str | None
    pending: int
    failed: int
    oldest_pending_at: datetime | None
    oldest_pending_seconds: float | None
    sender_here: bool
    token_expires_at: datetime | None


class OutboxRecord(BaseModel):
    id: int
    platform_id: str
    stream: str
    kind: str
    dedupe_key: str | None
    data: Any
    state: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    last_ret: int | None
    last_msg: str | None
    answer: Any
    requeued_as: int | None = None


class StatsRequest(Strict):
    first: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    last: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
