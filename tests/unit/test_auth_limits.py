"""Failed-credential limits: the limiter, the station/source scopes, client addresses, settings."""

from __future__ import annotations

import ipaddress
import logging

import pytest
from prometheus_client import REGISTRY

from csms.client_address import client_address, parse_networks, source_key
from csms.config import settings_from
from csms.errors import ConfigError
from csms.services.auth_limits import AuthLimits, Kind
from csms.services.failure_limiter import FailureLimiter, Limit


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# (seconds since start, operation, key, expected): `fail` answers whether that failure locked
# the key, `wait` what locked_for says, `ok` records a success (expected None).
LIMIT = Limit(failures=3, window=60, lockout=300)
SCENARIOS = {
    "three failures in the window lock the key": [
        (0, "fail", "a", False),
        (10, "fail", "a", False),
        (20, "wait", "a", 0.0),
        (20, "fail", "a", True),
        (20, "wait", "a", 300.0),
        (319, "wait", "a", 1.0),
        (320, "wait", "a", 0.0),
    ],
    "other keys are not affected": [
        (0, "fail", "a", False),
        (0, "fail", "a", False),
        (0, "fail", "a", True),
        (0, "wait", "b", 0.0),
        (0, "fail", "b", False),
    ],
    "failures spread wider than the window never lock": [
        (0, "fail", "a", False),
        (30, "fail", "a", False),
        (61, "fail", "a", False),  # the first window closed at 60: a new one opens
        (90, "fail", "a", False),
        (121, "fail", "a", False),
        (121, "wait", "a", 0.0),
    ],
    "failures during a lockout neither count nor extend it": [
        (0, "fail", "a", False),
        (0, "fail", "a", False),
        (0, "fail", "a", True),
        (100, "fail", "a", False),
        (100, "wait", "a", 200.0),
    ],
    "after the lockout a fresh window: the same number of tries again": [
        (0, "fail", "a", False),
        (0, "fail", "a", False),
        (0, "fail", "a", True),
        (300, "fail", "a", False),
        (301, "fail", "a", False),
        (302, "fail", "a", True),
        (302, "wait", "a", 300.0),
    ],
    "a success forgets the failures": [
        (0, "fail", "a", False),
        (1, "fail", "a", False),
        (2, "ok", "a", None),
        (3, "fail", "a", False),
        (4, "fail", "a", False),
        (5, "fail", "a", True),
    ],
    "a success does not lift a running lockout": [
        (0, "fail", "a", False),
        (0, "fail", "a", False),
        (0, "fail", "a", True),
        (1, "ok", "a", None),
        (1, "wait", "a", 299.0),
    ],
}


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_failure_limiter(steps: list[tuple[float, str, str, object]]) -> None:
    clock = FakeClock()
    start = clock.now
    limiter = FailureLimiter(LIMIT, clock=clock)
    for at, op, key, expected in steps:
        clock.now = start + at
        if op == "fail":
            assert limiter.failed(key) is expected, (at, op, key)
        elif op == "wait":
            assert limiter.locked_for(key) == pytest.approx(expected), (at, op, key)
        else:
            limiter.succeeded(key)


def test_zero_failures_turns_the_limit_off() -> None:
    limiter = FailureLimiter(Limit(0, 60, 300), clock=FakeClock())
    assert not any(limiter.failed("a") for _ in range(1000))
    assert limiter.locked_for("a") == 0.0 and len(limiter) == 0


@pytest.mark.parametrize("limit", [(-1, 60, 300), (3, 0, 300), (3, 60, 0), (3, -1, 300)], ids=str)
def test_limits_must_make_sense(limit: tuple[int, float, float]) -> None:
    with pytest.raises(ValueError):
        Limit(*limit)


def test_the_tables_are_bounded_and_a_spray_does_not_evict_lockouts() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(Limit(3, 60, 300), capacity=100, clock=clock)
    for _ in range(3):
        limiter.failed("locked")
    for i in range(10_000):  # a spray of random station ids, one failure each
        limiter.failed(f"spray-{i}")
        assert len(limiter) <= 101
    assert limiter.locked_for("locked") == 300.0
    # past the window the spray has expired: the next failure sheds it
    clock.now += 60
    limiter.failed("later")
    assert len(limiter) == 2 and limiter.locked_for("locked") == 240.0
    # locks are bounded too: the one closest to its end goes first
    for i in range(100):
        for _ in range(3):
            limiter.failed(f"lock-{i}")
    assert len(limiter) == 101 and limiter.locked_for("locked") == 0.0
    assert limiter.locked_for("lock-0") == 300.0


def test_an_ended_lockout_is_forgotten_when_looked_at() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(LIMIT, clock=clock)
    for _ in range(3):
        limiter.failed("a")
    clock.now += 300
    assert limiter.locked_for("a") == 0.0 and len(limiter) == 0


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_station_scope_is_per_station_and_source(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    limits = AuthLimits(
        Kind.STATION_PASSWORD,
        per_station=Limit(3, 60, 300),
        per_source=Limit(100, 60, 300),
        clock=clock,
    )
    lockouts = sample("csms_auth_lockouts_total", kind="station_password", scope="station")
    failures = sample("csms_auth_failures_total", kind="station_password")
    refusals = sample("csms_auth_lockout_refusals_total", kind="station_password")
    with caplog.at_level(logging.WARNING, "csms.services.auth_limits"):
        for _ in range(3):
            assert limits.retry_after("203.0.113.9", "CP-1") == 0.0
            limits.failed("203.0.113.9", "CP-1")
        for _ in range(5):  # refused unchecked: no failure, no new log line
            assert limits.retry_after("203.0.113.9", "CP-1") == 300.0
    assert [r.getMessage() for r in caplog.records] == [
        "station CP-1 from 203.0.113.9 locked out for 300s: 3 failed station passwords "
        "within 60s; other addresses are still checked"
    ]
    # the real charger at its own address, and other stations from the attacker's, still checked
    assert limits.retry_after("198.51.100.1", "CP-1") == 0.0
    assert limits.retry_after("203.0.113.9", "CP-2") == 0.0
    assert sample("csms_auth_lockouts_total", kind="station_password", scope="station") == (
        lockouts + 1
    )
    assert sample("csms_auth_failures_total", kind="station_password") == failures + 3
    assert sample("csms_auth_lockout_refusals_total", kind="station_password") == refusals + 5
    clock.now += 300
    assert limits.retry_after("203.0.113.9", "CP-1") == 0.0


def test_source_scope_spans_station_ids(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    limits = AuthLimits(
        Kind.STATION_PASSWORD,
        per_station=Limit(3, 60, 300),
        per_source=Limit(5, 60, 120),
        clock=clock,
    )
    with caplog.at_level(logging.WARNING, "csms.services.auth_limits"):
        for i in range(5):  # one guess at each of five stations: under every station's limit
            limits.failed("2001:db8:1:2::7", f"CP-{i}")
    assert limits.retry_after("2001:db8:1:2::7", "CP-99") == 120.0
    # the rest of its /64 is the same source; another /64 is not
    assert limits.retry_after("2001:db8:1:2:ffff::1", "CP-99") == 120.0
    assert limits.retry_after("2001:db8:1:3::7", "CP-99") == 0.0
    (record,) = caplog.records
    assert record.getMessage().startswith(
        "source 2001:db8:1:2::/64 locked out for 120s: 5 failed station passwords within 60s "
        "(the last for station CP-4)"
    )


def test_an_unknown_source_counts_per_station_alone() -> None:
    limits = AuthLimits(
        Kind.STATION_PASSWORD,
        per_station=Limit(3, 60, 300),
        per_source=Limit(3, 60, 300),
        clock=FakeClock(),
    )
    for i in range(3):  # behind a proxy that named no one: no source scope to lump them in
        limits.failed(None, f"CP-{i}")
    assert limits.retry_after(None, "CP-9") == 0.0
    limits.failed(None, "CP-0")
    limits.failed(None, "CP-0")
    assert limits.retry_after(None, "CP-0") == 300.0
    assert limits.retry_after("192.0.2.1", "CP-0") == 0.0  # a known address is its own pair


def test_a_success_does_not_reset_the_source_count() -> None:
    limits = AuthLimits(Kind.API_KEY, per_source=Limit(3, 60, 300), clock=FakeClock())
    limits.failed("192.0.2.1")
    limits.failed("192.0.2.1")
    limits.succeeded("192.0.2.1")  # its own valid key between guesses
    limits.failed("192.0.2.1")
    assert limits.retry_after("192.0.2.1") == 300.0
    assert limits.retry_after("192.0.2.2") == 0.0


PROXIES = parse_networks("10.0.0.0/8, 192.0.2.7, fd00::/8")
ADDRESSES = [
    # (peer, X-Forwarded-For values, client)
    ("203.0.113.5", [], "203.0.113.5"),
    ("203.0.113.5", ["1.2.3.4"], "203.0.113.5"),  # an untrusted peer's header is ignored
    ("10.1.1.1", [], None),  # a proxy that names no client (TLS passed through): unknown
    ("10.1.1.1", ["198.51.100.9"], "198.51.100.9"),
    ("192.0.2.7", ["6.6.6.6, 198.51.100.9"], "198.51.100.9"),  # left of the client: spoofable
    ("10.1.1.1", ["6.6.6.6, 198.51.100.9, 10.2.2.2"], "198.51.100.9"),  # two proxies
    ("10.1.1.1", ["6.6.6.6", "198.51.100.9"], "198.51.100.9"),  # two headers are one list
    ("10.1.1.1", ["10.3.3.3, 10.2.2.2"], "10.3.3.3"),  # proxies all the way
    ("10.1.1.1", ["6.6.6.6, garbage"], None),  # the proxy wrote garbage: unknown
    ("10.1.1.1", ["[2001:db8::5]:4711"], "2001:db8::5"),
    ("10.1.1.1", ["198.51.100.9:4711"], "198.51.100.9"),
    ("::ffff:10.1.1.1", ["198.51.100.9"], "198.51.100.9"),  # dual-stack socket
    ("::ffff:203.0.113.5", ["1.2.3.4"], "203.0.113.5"),
    ("fd00::1", ["2001:db8::5"], "2001:db8::5"),
    (None, ["1.2.3.4"], None),
    ("not-an-address", [], None),
]


@pytest.mark.parametrize(("peer", "forwarded", "client"), ADDRESSES)
def test_client_address(peer: str | None, forwarded: list[str], client: str | None) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_the_header_is_never_believed() -> None:
    assert client_address("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("unknown", "unknown"),
    ],
)
def test_source_key(address: str, key: str) -> None:
    assert source_key(address) == key


def test_settings() -> None:
    defaults = settings_from(env={})
    assert (defaults.auth_failures, defaults.auth_source_failures) == (10, 50)
    assert (defaults.auth_window, defaults.auth_lockout) == (60.0, 300.0)
    assert defaults.trusted_proxies == ()
    chosen = settings_from(
        env={
            "CSMS_AUTH_FAILURES": "3",
            "CSMS_AUTH_SOURCE_FAILURES": "0",
            "CSMS_AUTH_WINDOW": "1",
            "CSMS_AUTH_LOCKOUT": "2.5",
            "CSMS_TRUSTED_PROXIES": "172.30.90.0/24,::1",
        }
    )
    assert (chosen.auth_failures, chosen.auth_source_failures) == (3, 0)
    assert (chosen.auth_window, chosen.auth_lockout) == (1.0, 2.5)
    assert chosen.trusted_proxies == (
        ipaddress.ip_network("172.30.90.0/24"),
        ipaddress.ip_network("::1/128"),
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CSMS_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "'nginx' is not an IP address"),
        ({"CSMS_AUTH_FAILURES": "-1"}, "must not be negative"),
        ({"CSMS_AUTH_FAILURES": "ten"}, "must be a number"),
        ({"CSMS_AUTH_LOCKOUT": "0"}, "0 < seconds <= 86400"),
        ({"CSMS_AUTH_LOCKOUT": "1e9"}, "0 < seconds <= 86400"),
        ({"CSMS_AUTH_WINDOW": "nan"}, "0 < seconds <= 86400"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from(env=env)
