"""Pure domain rules: authorization, boot decisions, station ids, meter registers, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from csms.domain import password
from csms.domain.meter import ENERGY_REGISTER, Sample, energy_wh, reading, register_wh
from csms.domain.station import (
    AdminState,
    ConnectorRef,
    RegistrationStatus,
    boot_status,
    int32,
    station_id_problem,
)
from csms.domain.token import AuthStatus, IdToken, decide
from csms.domain.version import choose_subprotocol
from csms.errors import InvalidInput

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("token", "in_other", "accept_unknown", "status"),
    [
        (None, False, False, AuthStatus.INVALID),
        (None, False, True, AuthStatus.ACCEPTED),
        (IdToken("A"), False, False, AuthStatus.ACCEPTED),
        (IdToken("A", blocked=True), False, False, AuthStatus.BLOCKED),
        (
            IdToken("A", blocked=True, expires_at=NOW - timedelta(days=1)),
            True,
            False,
            AuthStatus.BLOCKED,
        ),
        (IdToken("A", expires_at=NOW - timedelta(seconds=1)), True, False, AuthStatus.EXPIRED),
        (IdToken("A", expires_at=NOW), False, False, AuthStatus.EXPIRED),
        (IdToken("A", expires_at=NOW + timedelta(seconds=1)), False, False, AuthStatus.ACCEPTED),
        (IdToken("A"), True, True, AuthStatus.CONCURRENT_TX),
        # deleted: Invalid, even where unknown tokens are accepted
        (IdToken("A", deleted_at=NOW - timedelta(days=1)), False, True, AuthStatus.INVALID),
        (IdToken("A", deleted_at=NOW, blocked=True), False, False, AuthStatus.INVALID),
    ],
)
def test_authorization(
    token: IdToken | None, in_other: bool, accept_unknown: bool, status: AuthStatus
) -> None:
    decision = decide(token, NOW, in_other_transaction=in_other, accept_unknown=accept_unknown)
    assert decision.status is status


def test_decision_carries_group_and_expiry() -> None:
    token = IdToken("A", group_id="G", expires_at=NOW + timedelta(days=1))
    decision = decide(token, NOW, in_other_transaction=False, accept_unknown=False)
    assert (decision.group_id, decision.expires_at) == ("G", token.expires_at)


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (AdminState.ACTIVE, RegistrationStatus.ACCEPTED),
        (AdminState.PENDING, RegistrationStatus.PENDING),
        (AdminState.BLOCKED, RegistrationStatus.REJECTED),
    ],
)
def test_boot_status(state: AdminState, status: RegistrationStatus) -> None:
    assert boot_status(state) is status


@pytest.mark.parametrize(
    ("station_id", "ok"),
    [
        ("CP-1", True),
        ("x" * 48, True),
        ("深圳-01", True),
        ("", False),
        ("x" * 49, False),
        ("a:b", False),
        ("RDAM 123", True),  # 1.6J / 2.0.1 Part 4 §3.1.1's own example
        (" a", False),
        ("a ", False),
        ("a\tb", False),
    ],
)
def test_station_ids(station_id: str, ok: bool) -> None:
    assert (station_id_problem(station_id) is None) is ok


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp2.1"], None),
        ([], None),
    ],
)
def test_subprotocol_choice(offered: list[str], chosen: str | None) -> None:
    assert choose_subprotocol(offered) == chosen


def test_v16_connector_mapping() -> None:
    assert ConnectorRef.from_v16(0) == ConnectorRef(0, 0)
    assert ConnectorRef.from_v16(3) == ConnectorRef(3, 1)
    with pytest.raises(InvalidInput):
        ConnectorRef.from_v16(-1)
    with pytest.raises(InvalidInput):
        ConnectorRef(1, -2)


def sample(value: str | None, unit: str = "Wh", minute: int = 0, **kw: str) -> Sample:
    return Sample(
        sampled_at=NOW + timedelta(minutes=minute),
        measurand=kw.get("measurand", ENERGY_REGISTER),
        value=None if value is None else Decimal(value),
        unit=unit,
        phase=kw.get("phase", ""),
    )


@pytest.mark.parametrize(
    ("s", "wh"),
    [
        (sample("1234"), 1234),
        (sample("1.2345", "kWh"), 1235),  # half-up to whole Wh
        (sample("1.2344", "kWh"), 1234),
        (sample("12.5", "kWh"), 12500),
        (sample("10", "W"), None),
        (sample(None), None),
        (sample("7", ""), 7),
    ],
)
def test_energy_wh(s: Sample, wh: int | None) -> None:
    assert energy_wh(s) == wh


def test_register_first_and_last_ignores_phases_and_other_measurands() -> None:
    samples = [
        sample("300", minute=2),
        sample("100", minute=0),
        sample("999", minute=5, phase="L1"),
        sample("5000", minute=9, measurand="Power.Active.Import"),
        sample("0.2", "kWh", minute=1),
    ]
    assert register_wh(samples, last=False) == 100
    assert register_wh(samples, last=True) == 300
    assert register_wh([], last=True) is None


def test_password_hash_and_verify() -> None:
    stored = password.hash_password("sixteen-chars-ok")
    assert stored.startswith("scrypt$") and "sixteen" not in stored
    assert password.verify_password("sixteen-chars-ok", stored)
    assert not password.verify_password("sixteen-chars-no", stored)
    assert not password.verify_password("x", "garbage")
    assert password.hash_password("sixteen-chars-ok") != stored  # salted
    for bad in ("short", "x" * 41):
        with pytest.raises(InvalidInput):
            password.hash_password(bad)


@pytest.mark.parametrize(
    ("multiplier", "expected"),
    [(2.0, Decimal("500")), (-3.0, Decimal("0.005")), (1e20, None), (2.5, None)],
)
def test_a_float_multiplier_is_used_when_whole_and_plausible(
    multiplier: float, expected: Decimal | None
) -> None:
    # JSON Schema takes 2.0 for an integer; a literal beyond 64 bits is parsed as a float
    assert reading("5", multiplier) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (7, 7), (2.0, 2), (-(2**31), -(2**31))],
)
def test_int32_takes_whole_numbers_in_range(
    value: int | float | None, expected: int | None
) -> None:
    assert int32("f", value) == expected
    assert type(int32("f", value)) is type(expected)


@pytest.mark.parametrize(
    ("value", "says"), [(2**31, "out of the 32-bit"), (1e20, "out of the 32-bit"), (2.5, "not an")]
)
def test_int32_refuses_what_is_not_a_32_bit_integer(value: int | float, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        int32("f", value)
