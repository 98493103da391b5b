"""The station's own stores: 1.6 keys, 2.0.1 device model, local auth, charging profiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from simulators.auth_lists import AuthCache, AuthEntry, LocalAuthList, offline_decision
from simulators.configuration import KeySpec, KeyStore, KeyType
from simulators.device_model import ComponentRef, DeviceModel, Variable, VariableRef
from simulators.smart_charging import (
    STATION_MAX,
    TX,
    TX_DEFAULT,
    Period,
    Profile,
    ProfileStore,
    Schedule,
    limit_at,
    profile_from_v16,
    profile_from_v201,
)

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def keys() -> KeyStore:
    return KeyStore(
        [
            KeySpec("HeartbeatInterval", KeyType.INT, "300", min_int=0),
            KeySpec("NumberOfConnectors", KeyType.INT, "2", readonly=True),
            KeySpec("LocalPreAuthorize", KeyType.BOOL, "false"),
            KeySpec(
                "MeterValuesSampledData",
                KeyType.LIST,
                "Energy.Active.Import.Register",
                members=frozenset({"Energy.Active.Import.Register", "Voltage"}),
                max_items=2,
            ),
            KeySpec("AuthorizationKey", KeyType.STRING, "", write_only=True, min_length=16),
        ]
    )


@pytest.mark.parametrize(
    ("key", "value", "status", "stored"),
    [
        ("HeartbeatInterval", "60", "Accepted", "60"),
        ("HeartbeatInterval", "sixty", "Rejected", "300"),
        ("HeartbeatInterval", "-1", "Rejected", "300"),
        ("NumberOfConnectors", "3", "Rejected", "2"),
        ("LocalPreAuthorize", "TRUE", "Accepted", "true"),
        ("LocalPreAuthorize", "yes", "Rejected", "false"),
        ("MeterValuesSampledData", "Voltage, Energy.Active.Import.Register", "Accepted",
         "Voltage,Energy.Active.Import.Register"),
        ("MeterValuesSampledData", "RPM", "Rejected", "Energy.Active.Import.Register"),
        ("MeterValuesSampledData", "Voltage,Voltage,Voltage", "Rejected",
         "Energy.Active.Import.Register"),
        ("AuthorizationKey", "short", "Rejected", ""),
    ],
)  # fmt: skip
def test_change_configuration(key: str, value: str, status: str, stored: str) -> None:
    store = keys()
    assert store.change(key, value) == status
    assert store.get(key) == stored


def test_unknown_key_is_not_supported() -> None:
    assert keys().change("Colour", "red") == "NotSupported"


def test_get_configuration_hides_secrets_and_lists_unknown_keys() -> None:
    store = keys()
    assert store.change("AuthorizationKey", "0123456789abcdef") == "Accepted"
    known, unknown = store.configuration(["AuthorizationKey", "NumberOfConnectors", "Nope"])
    assert known == [
        {"key": "AuthorizationKey", "readonly": False},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    ]
    assert unknown == ["Nope"]
    everything, none = store.configuration(None)
    assert len(everything) == 5 and none == []


def test_change_notifies() -> None:
    seen: list[tuple[str, str]] = []
    store = keys()
    store.on_change = lambda k, v: seen.append((k, v))
    store.change("HeartbeatInterval", "10")
    store.change("NumberOfConnectors", "9")
    assert seen == [("HeartbeatInterval", "10")]


def model() -> DeviceModel:
    comm, security = ComponentRef("OCPPCommCtrlr"), ComponentRef("SecurityCtrlr")
    return DeviceModel(
        [
            Variable(
                comm, VariableRef("HeartbeatInterval"), "300", "integer", min_limit=Decimal(1)
            ),
            Variable(comm, VariableRef("MessageAttempts", "TransactionEvent"), "3", "integer"),
            Variable(security, VariableRef("Identity"), "CS-1", "string", "ReadOnly"),
            Variable(security, VariableRef("BasicAuthPassword"), "", "string", "WriteOnly"),
            Variable(
                ComponentRef("TxCtrlr"),
                VariableRef("TxStopPoint"),
                "EVConnected",
                "MemberList",
                values_list=("EVConnected", "Authorized"),
            ),
            Variable(
                ComponentRef("EVSE", evse=1),
                VariableRef("AvailabilityState"),
                "Available",
                "OptionList",
                "ReadOnly",
                values_list=("Available", "Unavailable"),
            ),
        ]
    )


def get(
    m: DeviceModel, component: dict[str, object], variable: dict[str, object], **extra: str
) -> dict[str, object]:
    return m.get({"component": component, "variable": variable, **extra})


@pytest.mark.parametrize(
    ("component", "variable", "attribute", "status", "value"),
    [
        ({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"}, "Actual", "Accepted", "300"),
        ({"name": "OCPPCommCtrlr"}, {"name": "MessageAttempts", "instance": "TransactionEvent"},
         "Actual", "Accepted", "3"),
        ({"name": "OCPPCommCtrlr"}, {"name": "MessageAttempts"}, "Actual", "UnknownVariable", None),
        ({"name": "Nope"}, {"name": "HeartbeatInterval"}, "Actual", "UnknownComponent", None),
        ({"name": "OCPPCommCtrlr"}, {"name": "HeartbeatInterval"}, "Target",
         "NotSupportedAttributeType", None),
        ({"name": "SecurityCtrlr"}, {"name": "BasicAuthPassword"}, "Actual", "Rejected", None),
        ({"name": "EVSE", "evse": {"id": 1}}, {"name": "AvailabilityState"}, "Actual", "Accepted",
         "Available"),
        ({"name": "EVSE", "evse": {"id": 2}}, {"name": "AvailabilityState"}, "Actual",
         "UnknownComponent", None),
    ],
)  # fmt: skip
def test_get_variables(
    component: dict[str, object], variable: dict[str, object], attribute: str, status: str,
    value: str | None,
) -> None:  # fmt: skip
    result = get(model(), component, variable, attributeType=attribute)
    assert result["attributeStatus"] == status
    assert result.get("attributeValue") == value
    assert result["component"] == component and result["variable"] == variable


@pytest.mark.parametrize(
    ("component", "variable", "value", "status"),
    [
        ("OCPPCommCtrlr", "HeartbeatInterval", "60", "Accepted"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "0", "Rejected"),  # below minLimit
        ("OCPPCommCtrlr", "HeartbeatInterval", "1.5", "Rejected"),
        ("SecurityCtrlr", "Identity", "other", "Rejected"),  # read-only
        ("SecurityCtrlr", "BasicAuthPassword", "a-new-secret-of-16", "Accepted"),
        ("TxCtrlr", "TxStopPoint", "Authorized,EVConnected", "Accepted"),
        ("TxCtrlr", "TxStopPoint", "PowerPathClosed", "Rejected"),
        ("Nope", "X", "1", "UnknownComponent"),
    ],
)
def test_set_variables(component: str, variable: str, value: str, status: str) -> None:
    m = model()
    result = m.set(
        {"component": {"name": component}, "variable": {"name": variable}, "attributeValue": value}
    )
    assert result["attributeStatus"] == status
    if status == "Accepted" and variable != "BasicAuthPassword":
        assert get(m, {"name": component}, {"name": variable})["attributeValue"] == value


def test_reports() -> None:
    m = model()
    full = m.report("FullInventory")
    assert len(full) == 6
    secret = next(e for e in full if e["variable"]["name"] == "BasicAuthPassword")
    assert "value" not in secret["variableAttribute"][0]
    config = {e["variable"]["name"] for e in m.report("ConfigurationInventory")}
    assert config == {"HeartbeatInterval", "MessageAttempts", "BasicAuthPassword", "TxStopPoint"}
    summary = m.report("SummaryInventory")
    assert [e["component"] for e in summary] == [{"name": "EVSE", "evse": {"id": 1}}]


def test_local_list_full_and_differential() -> None:
    local = LocalAuthList(max_length=3)
    ok = AuthEntry("Accepted")
    assert local.update(1, "Full", [("A", ok), ("B", ok)]) == "Accepted"
    assert local.update(1, "Differential", [("C", ok)]) == "VersionMismatch"
    assert local.update(2, "Differential", [("C", ok), ("A", None)]) == "Accepted"
    assert local.lookup("A", NOW) is None and local.lookup("C", NOW) == ok
    assert local.update(3, "Differential", [("D", ok), ("E", ok)]) == "Failed"  # too long
    assert local.version == 2 and len(local) == 2
    assert local.update(1, "Full", []) == "Accepted"  # Full may go back to any version
    assert local.version == 1 and len(local) == 0


def test_expired_entries_say_expired() -> None:
    local = LocalAuthList()
    local.update(1, "Full", [("A", AuthEntry("Accepted", NOW - timedelta(days=1)))])
    entry = local.lookup("A", NOW)
    assert entry is not None and entry.status == "Expired"


def test_cache_lifetime_and_capacity() -> None:
    cache = AuthCache(lifetime=timedelta(hours=1), capacity=2)
    cache.record("A", AuthEntry("Accepted"), NOW)
    cache.record("B", AuthEntry("Blocked"), NOW)
    cache.record("C", AuthEntry("Accepted"), NOW)  # evicts A
    assert cache.lookup("A", NOW) is None
    assert cache.lookup("B", NOW + timedelta(minutes=59)) == AuthEntry("Blocked")
    assert cache.lookup("B", NOW + timedelta(hours=2)) is None
    cache.clear()
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("token", "authorize_offline", "unknown_allowed", "expected"),
    [
        ("LISTED", True, False, "Accepted"),
        ("BLOCKED", True, True, "Blocked"),  # known and refused: no offline charging
        ("CACHED", True, False, "Accepted"),
        ("STRANGER", True, False, "Invalid"),
        ("STRANGER", True, True, "Accepted"),
        ("LISTED", False, False, "Invalid"),  # lists are not used offline
    ],
)
def test_offline_decision(
    token: str, authorize_offline: bool, unknown_allowed: bool, expected: str
) -> None:
    local = LocalAuthList()
    local.update(1, "Full", [("LISTED", AuthEntry("Accepted")), ("BLOCKED", AuthEntry("Blocked"))])
    cache = AuthCache()
    cache.record("CACHED", AuthEntry("Accepted"), NOW)
    decision = offline_decision(
        token,
        NOW,
        local_list=local,
        cache=cache,
        authorize_offline=authorize_offline,
        unknown_allowed=unknown_allowed,
    )
    assert decision == expected


def watts(limit: float, unit: str, phases: int | None) -> float:
    return limit if unit == "W" else limit * 230 * (phases or 1)


def profile(
    pid: int,
    purpose: str,
    stack: int,
    periods: list[tuple[int, float]],
    *,
    evse: int = 0,
    kind: str = "Absolute",
    unit: str = "W",
    start: datetime | None = NOW,
    duration: int | None = None,
    recurrency: str | None = None,
    tx: str | None = None,
) -> Profile:
    return Profile(
        pid,
        stack,
        purpose,
        kind,
        Schedule(unit, tuple(Period(s, v) for s, v in periods), duration, start),
        evse=evse,
        recurrency=recurrency,
        transaction_id=tx,
    )


def limit(store: ProfileStore, at: datetime, *, tx: str | None = "T1", evse: int = 1) -> float:
    return store.limit_w(evse, at, tx_id=tx, tx_start=NOW, to_watts=watts, rated_w=7000)


def test_limits_stack_and_purposes() -> None:
    store = ProfileStore()
    assert limit(store, NOW) == 7000  # nothing installed: the rating
    store.install(profile(1, TX_DEFAULT, 0, [(0, 6000), (3600, 4000)]))
    assert limit(store, NOW) == 6000 and limit(store, NOW + timedelta(hours=2)) == 4000
    store.install(profile(2, TX_DEFAULT, 1, [(0, 5000)], evse=1))  # EVSE-specific overrides
    assert limit(store, NOW) == 5000
    store.install(profile(3, TX, 0, [(0, 3000)], evse=1, kind="Relative", start=None, tx="T1"))
    assert limit(store, NOW + timedelta(minutes=1)) == 3000
    assert limit(store, NOW, tx="OTHER") == 5000  # another transaction's TxProfile
    store.install(profile(4, STATION_MAX, 0, [(0, 2000)]))
    assert limit(store, NOW) == 2000
    assert store.clear(purpose="ChargePointMaxProfile") == 1
    store.end_transaction(1)
    assert limit(store, NOW) == 5000
    assert store.clear(profile_id=99) == 0


def test_same_stack_and_purpose_replaces() -> None:
    store = ProfileStore()
    store.install(profile(1, TX_DEFAULT, 0, [(0, 6000)]))
    store.install(profile(2, TX_DEFAULT, 0, [(0, 1000)]))
    assert [p.id for p in store.profiles()] == [2]
    store.install(profile(2, TX_DEFAULT, 3, [(0, 1500)]))  # same id replaces too
    assert [(p.id, p.stack_level) for p in store.profiles()] == [(2, 3)]


def test_current_limits_and_duration_and_validity() -> None:
    p = profile(1, TX_DEFAULT, 0, [(0, 16)], unit="A", duration=600)
    assert limit_at(p, NOW, None, watts) == 16 * 230
    assert limit_at(p, NOW + timedelta(seconds=600), None, watts) is None
    assert limit_at(p, NOW - timedelta(seconds=1), None, watts) is None


def test_daily_recurrence() -> None:
    night = profile(
        1, TX_DEFAULT, 0, [(0, 2000), (6 * 3600, 7000)], kind="Recurring", recurrency="Daily",
        start=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    assert limit_at(night, datetime(2026, 5, 1, 3, tzinfo=UTC), None, watts) == 2000
    assert limit_at(night, datetime(2026, 5, 1, 9, tzinfo=UTC), None, watts) == 7000


def test_composite_schedule_merges_periods() -> None:
    store = ProfileStore()
    store.install(profile(1, TX_DEFAULT, 0, [(0, 6000), (600, 6000), (1200, 3000)]))
    store.install(profile(2, STATION_MAX, 0, [(0, 5000)], duration=900))
    periods = store.composite(1, NOW, 1800, tx_id=None, tx_start=None, to_watts=watts, rated_w=7000)
    assert periods == [(0, 5000), (900, 6000), (1200, 3000)]


def test_profiles_from_payloads() -> None:
    v16 = profile_from_v16(
        {
            "chargingProfileId": 7,
            "transactionId": 42,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 60, "limit": 10},
                    {"startPeriod": 0, "limit": 16},
                ],
            },
        },
        1,
        NOW,
    )
    assert (v16.purpose, v16.transaction_id, v16.schedule.periods[0].limit) == (TX, "42", 16.0)
    v201 = profile_from_v201(
        {
            "id": 8,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2026-05-01T08:00:00Z",
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
                }
            ],
        },
        0,
        NOW,
    )
    assert v201.purpose == STATION_MAX and v201.schedule.start == NOW
