"""Failed station passwords and API keys over real sockets: lockouts, 429, Retry-After, the
right credentials from elsewhere and after the lockout, one log line, the metrics.

Every client is on 127.0.0.1; with 127.0.0.1 as a trusted proxy, X-Forwarded-For plays the
source address of each (an attacker, the real charger), as nginx would set it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus

from csms.bootstrap import Running, running
from csms.client_address import parse_networks
from csms.domain.password import hash_password
from csms.store.stations import StationStore
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.ocpp_client import open_client

PASSWORD = "correct-horse-battery"
WRONG = "not-the-password-000"
ATTACKER = "203.0.113.66"
CHARGER = "198.51.100.7"
LOCKOUT = 1.5  # seconds: short, so the tests see the lockout end
LOGGER = "csms.services.auth_limits"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def handshake(
    csms: Running, station_id: str, password: str | None, source: str | None = None
) -> tuple[int, Headers]:
    """(HTTP status, headers) of one opening handshake; 101 when admitted (then closed)."""
    headers = {}
    if password is not None:
        headers["Authorization"] = basic(station_id, password)
    if source is not None:
        headers["X-Forwarded-For"] = source
    try:
        client = await open_client(csms.ocpp_port, station_id, headers=headers)
    except InvalidStatus as refused:
        return refused.response.status_code, refused.response.headers
    await client.close()
    return 101, Headers()


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[Running]:
    settings = make_settings(
        database_url,
        auth_failures=3,
        auth_source_failures=5,
        auth_window=30,
        auth_lockout=LOCKOUT,
        trusted_proxies=parse_networks("127.0.0.1"),
        ocpp_trusted_proxies=parse_networks("127.0.0.1"),
    )
    async with running(settings) as csms:
        store = StationStore(csms.pool)
        for i in range(8):
            await store.create(f"CP-{i}", password_hash=hash_password(PASSWORD))
        yield csms


async def test_wrong_passwords_lock_out_that_station_from_that_address(
    limited: Running, caplog: pytest.LogCaptureFixture
) -> None:
    labels = {"kind": "station_password"}
    failures = sample("csms_auth_failures_total", **labels)
    lockouts = sample("csms_auth_lockouts_total", scope="station", **labels)
    refusals = sample("csms_auth_lockout_refusals_total", **labels)
    with caplog.at_level(logging.WARNING, LOGGER):
        for _ in range(3):
            assert (await handshake(limited, "CP-0", WRONG, ATTACKER))[0] == 401
        # locked: refused unchecked, the right password too, with a Retry-After
        for password in (WRONG, PASSWORD, None):
            status, headers = await handshake(limited, "CP-0", password, ATTACKER)
            assert status == 429 and 1 <= int(headers["Retry-After"]) <= 2
        # the real charger at its own address is still checked and let in
        assert (await handshake(limited, "CP-0", PASSWORD, CHARGER))[0] == 101
        # and the attacker's address may still try other stations (under the source limit)
        assert (await handshake(limited, "CP-1", PASSWORD, ATTACKER))[0] == 101
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == [
        f"station CP-0 from {ATTACKER} locked out for 1.5s: 3 failed station passwords within "
        "30s; other addresses are still checked"
    ]
    assert sample("csms_auth_failures_total", **labels) == failures + 3
    assert sample("csms_auth_lockouts_total", scope="station", **labels) == lockouts + 1
    assert sample("csms_auth_lockout_refusals_total", **labels) == refusals + 3
    # once the lockout ends, the right password works again from there
    await asyncio.sleep(LOCKOUT + 0.1)
    assert (await handshake(limited, "CP-0", PASSWORD, ATTACKER))[0] == 101


async def test_many_station_ids_from_one_address_lock_the_address(
    limited: Running, caplog: pytest.LogCaptureFixture
) -> None:
    lockouts = sample("csms_auth_lockouts_total", kind="station_password", scope="source")
    with caplog.at_level(logging.WARNING, LOGGER):
        for i in range(5):  # one guess per station: no station's own limit is reached
            assert (await handshake(limited, f"CP-{i}", WRONG, ATTACKER))[0] == 401
        # every station from that address is refused now, right password or none
        assert (await handshake(limited, "CP-7", PASSWORD, ATTACKER))[0] == 429
        assert (await handshake(limited, "NO-PASSWORD", None, ATTACKER))[0] == 429
        assert (await handshake(limited, "CP-7", PASSWORD, CHARGER))[0] == 101
    (line,) = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert line.startswith(f"source {ATTACKER} locked out for 1.5s: 5 failed station passwords")
    assert (
        sample("csms_auth_lockouts_total", kind="station_password", scope="source") == lockouts + 1
    )
    await asyncio.sleep(LOCKOUT + 0.1)
    assert (await handshake(limited, "CP-7", PASSWORD, ATTACKER))[0] == 101


async def test_behind_a_proxy_that_names_no_client_stations_count_alone(limited: Running) -> None:
    # A trusted peer without X-Forwarded-For: a layer-4 proxy passing TLS through. Its clients
    # cannot be told apart, so no per-source lockout lumps them together...
    for i in range(5):
        assert (await handshake(limited, f"CP-{i}", WRONG))[0] == 401
    assert (await handshake(limited, "CP-7", PASSWORD))[0] == 101
    # ...but a station's own limit still holds (guessing stays bounded)
    assert (await handshake(limited, "CP-0", WRONG))[0] == 401
    assert (await handshake(limited, "CP-0", WRONG))[0] == 401
    assert (await handshake(limited, "CP-0", PASSWORD))[0] == 429
    assert (await handshake(limited, "CP-0", PASSWORD, CHARGER))[0] == 101


async def test_forwarded_for_from_an_untrusted_peer_is_not_believed(database_url: str) -> None:
    settings = make_settings(database_url, auth_failures=3, auth_lockout=LOCKOUT)
    async with running(settings) as csms:
        await StationStore(csms.pool).create("CP-0", password_hash=hash_password(PASSWORD))
        for i in range(3):  # a new claimed address each time: still 127.0.0.1 to the CSMS
            assert (await handshake(csms, "CP-0", WRONG, f"192.0.2.{i}"))[0] == 401
        assert (await handshake(csms, "CP-0", PASSWORD, "192.0.2.99"))[0] == 429
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
            for i in range(3):
                r = await http.get(
                    "/api/v1/stations",
                    headers={"Authorization": "Bearer wrong", "X-Forwarded-For": f"192.0.2.{i}"},
                )
                assert r.status_code == 401
            r = await http.get(
                "/api/v1/stations",
                headers={"Authorization": "Bearer wrong", "X-Forwarded-For": "192.0.2.9"},
            )
            assert r.status_code == 429


async def test_wrong_api_keys_lock_out_the_address(
    limited: Running, caplog: pytest.LogCaptureFixture
) -> None:
    failures = sample("csms_auth_failures_total", kind="api_key")
    lockouts = sample("csms_auth_lockouts_total", kind="api_key", scope="source")

    async def get(http: httpx.AsyncClient, key: str | None, source: str) -> httpx.Response:
        headers = {"X-Forwarded-For": source}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return await http.get("/api/v1/stations", headers=headers)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{limited.http_port}") as http:
        with caplog.at_level(logging.WARNING, LOGGER):
            for _ in range(2):  # a missing key is no guess: not counted
                assert (await get(http, None, ATTACKER)).status_code == 401
            for i in range(3):
                assert (await get(http, f"csms_guess-{i}", ATTACKER)).status_code == 401
            r = await get(http, "csms_guess-4", ATTACKER)
            seconds = r.headers["Retry-After"]
            assert r.status_code == 429 and 1 <= int(seconds) <= 2
            assert r.json() == {
                "error": "too_many_requests",
                "detail": f"too many wrong API keys from this address; retry in {seconds} s",
            }
            # a right key is served even from the locked address (one client behind a shared
            # address must not lock the operators out), and from any other
            assert (await get(http, ADMIN_TOKEN, ATTACKER)).status_code == 200
            assert (await get(http, ADMIN_TOKEN, CHARGER)).status_code == 200
        assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == [
            f"source {ATTACKER} locked out for 1.5s: 3 wrong API keys within 30s; "
            "all its API requests are refused"
        ]
        assert sample("csms_auth_failures_total", kind="api_key") == failures + 3
        assert sample("csms_auth_lockouts_total", kind="api_key", scope="source") == lockouts + 1
        await asyncio.sleep(LOCKOUT + 0.1)
        assert (await get(http, ADMIN_TOKEN, ATTACKER)).status_code == 200


async def test_the_ocpp_port_believes_no_forwarded_for_of_the_apis_proxies(
    database_url: str,
) -> None:
    # A proxy trusted in front of the API may pass OCPP through as TLS/TCP: what reaches the
    # gateway through it is the station's own header. Each guess naming a new address must
    # still count for the real peer.
    settings = make_settings(
        database_url,
        auth_failures=3,
        auth_lockout=LOCKOUT,
        trusted_proxies=parse_networks("127.0.0.1"),
    )
    async with running(settings) as csms:
        await StationStore(csms.pool).create("CP-0", password_hash=hash_password(PASSWORD))
        for i in range(3):
            assert (await handshake(csms, "CP-0", WRONG, f"192.0.2.{i}"))[0] == 401
        assert (await handshake(csms, "CP-0", WRONG, "192.0.2.200"))[0] == 429
