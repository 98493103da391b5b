"""Local Authorization List rules and the command guards (pure), and the simulator's list."""

from __future__ import annotations

import pytest

from csms.domain.local_list import (
    KnownList,
    ListEntry,
    ListUpdate,
    applied,
    reported,
    update_problem,
    version_conflict,
)
from csms.domain.station import AdminState
from csms.domain.version import OcppVersion
from csms.services.command_guards import (
    direction_problem,
    registration_problem,
    remote_start_profile_problem,
)
from simulators.auth_lists import AuthEntry, LocalAuthList

A, B, C = ListEntry("A", status="Accepted"), ListEntry("B", status="Accepted"), ListEntry("C")


@pytest.mark.parametrize(
    ("update", "problem"),
    [
        (ListUpdate(1, True, (A, B)), None),
        (ListUpdate(0, True, (A,)), "greater than 0"),  # D01.FR.18
        (ListUpdate(-2, False, ()), "greater than 0"),
        (ListUpdate(3, False, (A, ListEntry("A"))), "more than once in the list: A"),  # D01.FR.06
        (ListUpdate(3, True, (A, C)), "no removals"),
        (ListUpdate(3, False, (A, C)), None),
    ],
)
def test_update_problems(update: ListUpdate, problem: str | None) -> None:
    found = update_problem(update)
    assert found is None if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("update", "known", "conflict"),
    [
        (ListUpdate(5, False, ()), None, False),  # nothing known: the station decides
        (ListUpdate(5, False, ()), KnownList(5), True),  # 1.6 §5.15 VersionMismatch
        (ListUpdate(6, False, ()), KnownList(5), False),
        (ListUpdate(2, True, ()), KnownList(5), False),  # a full list may go back
    ],
)
def test_version_conflicts(update: ListUpdate, known: KnownList | None, conflict: bool) -> None:
    assert (version_conflict(update, known) is not None) is conflict


def test_applied_and_reported() -> None:
    full = applied(None, ListUpdate(1, True, (A, B)))
    assert full == KnownList(1, {"A": A, "B": B})
    diff = applied(full, ListUpdate(2, False, (ListEntry("A"), ListEntry("C", status="Blocked"))))
    assert diff.version == 2 and diff.entries is not None
    assert sorted(diff.entries) == ["B", "C"]
    assert applied(None, ListUpdate(2, False, (A,))) == KnownList(2, None)
    assert reported(diff, 2) is diff  # the station confirms what we know
    assert reported(diff, 7) == KnownList(7, None)  # changed behind our back
    assert reported(diff, 0) == KnownList(0, {})  # no list


@pytest.mark.parametrize(
    ("version", "action", "refused"),
    [
        (OcppVersion.V16, "BootNotification", True),
        (OcppVersion.V16, "StartTransaction", True),
        (OcppVersion.V16, "DataTransfer", False),
        (OcppVersion.V16, "Reset", False),
        (OcppVersion.V201, "TransactionEvent", True),
        (OcppVersion.V201, "NotifyEVChargingNeeds", True),
        (OcppVersion.V201, "CostUpdated", False),
        (OcppVersion.V201, "DataTransfer", False),
    ],
)
def test_direction(version: OcppVersion, action: str, refused: bool) -> None:
    assert (direction_problem(version, action) is not None) is refused


@pytest.mark.parametrize(
    ("action", "purpose", "refused"),
    [
        ("RemoteStartTransaction", "TxProfile", False),
        ("RemoteStartTransaction", "TxDefaultProfile", True),
        ("RequestStartTransaction", "ChargingStationMaxProfile", True),
        ("SetChargingProfile", "TxDefaultProfile", False),  # not a remote start
    ],
)
def test_remote_start_profile(action: str, purpose: str, refused: bool) -> None:
    payload = {"chargingProfile": {"chargingProfilePurpose": purpose}}
    assert (remote_start_profile_problem(action, payload) is not None) is refused
    assert remote_start_profile_problem(action, {}) is None


@pytest.mark.parametrize(
    ("state", "action", "refused"),
    [
        (AdminState.BLOCKED, "TriggerMessage", True),  # B03.FR.03
        (AdminState.BLOCKED, "GetVariables", True),
        (AdminState.PENDING, "GetVariables", False),  # B02.FR.01
        (AdminState.PENDING, "TriggerMessage", False),
        (AdminState.PENDING, "RemoteStartTransaction", True),  # 1.6 §4.2
        (AdminState.PENDING, "RequestStopTransaction", True),
        (AdminState.ACTIVE, "Reset", False),
    ],
)
def test_registration(state: AdminState, action: str, refused: bool) -> None:
    assert (registration_problem(state, "CP", action) is not None) is refused


def test_simulator_list_fails_bad_versions_and_duplicates() -> None:
    local = LocalAuthList()
    ok = AuthEntry("Accepted")
    assert local.update(0, "Full", [("A", ok)]) == "Failed"  # D01.FR.18
    assert local.update(1, "Full", [("A", ok), ("A", ok)]) == "Failed"  # D01.FR.06
    assert local.version == 0 and len(local) == 0
    assert local.update(1, "Full", [("A", ok)]) == "Accepted"
