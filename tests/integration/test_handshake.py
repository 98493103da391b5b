"""The opening handshake: subprotocols, registration policy, Basic auth, TLS profiles 2 and 3."""

from __future__ import annotations

import asyncio
import base64
import ssl

import pytest
import trustme
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from csms.bootstrap import Running, running
from csms.config import RegistrationPolicy
from csms.domain.password import hash_password
from csms.domain.station import AdminState
from csms.store.stations import StationStore
from tests.conftest import make_settings
from tests.ocpp_client import open_client

PASSWORD = "correct-horse-battery"
BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "AC7"}


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def status_of_refusal(port: int, station_id: str, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await open_client(port, station_id, **kwargs)  # type: ignore[arg-type]
    return refused.value.response.status_code


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),  # the newest both sides know
        (["ocpp1.5", "ocpp2.0.1", "ocpp2.1"], "ocpp2.0.1"),
    ],
)
async def test_subprotocol_negotiation(csms: Running, offered: list[str], chosen: str) -> None:
    cp = await open_client(csms.ocpp_port, "CP-SUB", offered)
    assert cp.subprotocol == chosen
    await cp.close()


@pytest.mark.parametrize("offered", [["ocpp1.2"], []])
async def test_no_matching_subprotocol_completes_handshake_then_closes(
    csms: Running, offered: list[str]
) -> None:
    # Not HTTP 400: the handshake completes without a subprotocol, then the CSMS closes.
    cp = await open_client(csms.ocpp_port, "CP-NOSUB", offered)
    assert cp.subprotocol is None
    with pytest.raises(ConnectionClosed):
        await cp.recv(timeout=5)
    assert cp.ws.close_code == 1002


@pytest.mark.parametrize("station_id", ["a:b", "x" * 49, "with%09tab", "%20lead", "bad%C3%28"])
async def test_invalid_station_ids_are_refused(csms: Running, station_id: str) -> None:
    assert await status_of_refusal(csms.ocpp_port, station_id) == 400


async def test_closed_registration_refuses_unknown_stations(database_url: str) -> None:
    settings = make_settings(database_url, registration=RegistrationPolicy.CLOSED)
    async with running(settings) as csms:
        assert await status_of_refusal(csms.ocpp_port, "CP-STRANGER") == 404
        await StationStore(csms.pool).create("CP-KNOWN")
        cp = await open_client(csms.ocpp_port, "CP-KNOWN")
        assert (await cp.call("BootNotification", BOOT16))["status"] == "Accepted"
        await cp.close()
        assert await csms.pool.fetchval("SELECT count(*) FROM stations") == 1


async def test_basic_auth(csms: Running) -> None:
    await StationStore(csms.pool).create("CP-AUTH", password_hash=hash_password(PASSWORD))
    port = csms.ocpp_port
    assert await status_of_refusal(port, "CP-AUTH") == 401
    assert (
        await status_of_refusal(port, "CP-AUTH", headers=basic("CP-AUTH", "wrong-password-123"))
        == 401
    )
    assert await status_of_refusal(port, "CP-AUTH", headers=basic("CP-OTHER", PASSWORD)) == 401
    assert await status_of_refusal(port, "CP-AUTH", headers={"Authorization": "Basic !!!"}) == 401
    for _ in range(2):  # the second time hits the verified-credentials cache
        cp = await open_client(port, "CP-AUTH", headers=basic("CP-AUTH", PASSWORD))
        assert (await cp.call("BootNotification", BOOT16))["status"] == "Accepted"
        await cp.close()
    # A station without a password is not asked for one.
    cp = await open_client(port, "CP-NOPASS")
    await cp.call("Heartbeat", {})
    await cp.close()


async def test_second_connection_replaces_the_first(csms: Running) -> None:
    first = await open_client(csms.ocpp_port, "CP-TWICE")
    await first.call("BootNotification", BOOT16)
    second = await open_client(csms.ocpp_port, "CP-TWICE")
    with pytest.raises(ConnectionClosed):
        await first.recv(timeout=5)
    assert first.ws.close_code == 1001
    assert "currentTime" in await second.call("Heartbeat", {})
    async with asyncio.timeout(5):  # the old handler records its end on its own time
        while not await csms.pool.fetchval(
            "SELECT count(*) FROM station_connections WHERE station_id = 'CP-TWICE'"
            " AND disconnected_at IS NOT NULL"
        ):
            await asyncio.sleep(0.05)
    station = await csms.pool.fetchrow(
        "SELECT connected, connection_id FROM stations WHERE id = 'CP-TWICE'"
    )
    rows = await csms.pool.fetch(
        "SELECT id, disconnected_at, close_reason FROM station_connections "
        "WHERE station_id = 'CP-TWICE' ORDER BY id"
    )
    assert station["connected"] and station["connection_id"] == rows[1]["id"]
    assert rows[0]["close_reason"] == "replaced by a new connection"
    assert rows[1]["disconnected_at"] is None
    assert len(csms.gateway.registry) == 1
    await second.close()


async def test_blocked_and_pending_stations(csms: Running) -> None:
    stations = StationStore(csms.pool)
    await stations.create("CP-BLOCKED", admin_state=AdminState.BLOCKED)
    await stations.create("CP-PENDING", admin_state=AdminState.PENDING)
    cp = await open_client(csms.ocpp_port, "CP-BLOCKED")
    assert (await cp.call("BootNotification", BOOT16))["status"] == "Rejected"
    assert (await cp.call_error("Heartbeat", {}))[0] == "SecurityError"
    # transaction data is never refused, even from a rejected station
    stop = {"transactionId": 12345, "meterStop": 10, "timestamp": "2026-05-01T00:00:00Z"}
    assert await cp.call("StopTransaction", stop) == {}
    await cp.close()
    cp = await open_client(csms.ocpp_port, "CP-PENDING")
    boot = await cp.call("BootNotification", BOOT16)
    assert boot["status"] == "Pending" and boot["interval"] >= 60
    assert "currentTime" in await cp.call("Heartbeat", {})
    await cp.close()
    await stations.update_auth("CP-BLOCKED", admin_state=AdminState.ACTIVE)
    cp = await open_client(csms.ocpp_port, "CP-BLOCKED")
    assert (await cp.call("BootNotification", BOOT16))["status"] == "Accepted"
    await cp.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("pki")
    cert, key, ca_file = folder / "server.pem", folder / "server.key", folder / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    return {"ca": ca, "cert": cert, "key": key, "ca_file": ca_file}


def client_context(pki: dict[str, object], common_name: str | None = None) -> ssl.SSLContext:
    ca: trustme.CA = pki["ca"]  # type: ignore[assignment]
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    if common_name is not None:
        ca.issue_cert(common_name, common_name=common_name).configure_cert(context)
    return context


async def test_tls_profiles_2_and_3(database_url: str, pki: dict[str, object]) -> None:
    settings = make_settings(
        database_url,
        tls_cert=pki["cert"],
        tls_key=pki["key"],
        tls_client_ca=pki["ca_file"],
    )
    async with running(settings) as csms:
        stations = StationStore(csms.pool)
        await stations.create("CP-P2", password_hash=hash_password(PASSWORD), security_profile=2)
        await stations.create("CP-P3", security_profile=3)
        port = csms.ocpp_port
        # Profile 2: TLS + Basic auth.
        cp = await open_client(
            port, "CP-P2", ssl=client_context(pki), headers=basic("CP-P2", PASSWORD)
        )
        assert (await cp.call("BootNotification", BOOT16))["status"] == "Accepted"
        await cp.close()
        assert await status_of_refusal(port, "CP-P2", ssl=client_context(pki)) == 401
        # Profile 3: a client certificate naming the station.
        cp = await open_client(port, "CP-P3", ssl=client_context(pki, "CP-P3"))
        assert (await cp.call("BootNotification", BOOT16))["status"] == "Accepted"
        await cp.close()
        assert await status_of_refusal(port, "CP-P3", ssl=client_context(pki)) == 401
        assert await status_of_refusal(port, "CP-P3", ssl=client_context(pki, "CP-EVIL")) == 401
        # A certificate from another CA fails TLS itself (with TLS 1.3 the client only
        # learns so when it reads the HTTP answer).
        stranger = trustme.CA()
        context = client_context(pki)
        stranger.issue_cert("CP-P3", common_name="CP-P3").configure_cert(context)
        with pytest.raises((ssl.SSLError, OSError, InvalidHandshake)):
            await open_client(port, "CP-P3", ssl=context)


async def test_blocking_a_connected_station_takes_effect_without_a_reboot(
    database_url: str,
) -> None:
    async with running(make_settings(database_url, node_timeout=1.5)) as csms:
        stations = StationStore(csms.pool)
        cp = await open_client(csms.ocpp_port, "CP-LIVE")
        assert (await cp.call("BootNotification", BOOT16))["status"] == "Accepted"
        await stations.update_auth("CP-LIVE", admin_state=AdminState.BLOCKED)
        async with asyncio.timeout(5):
            while (reply := await cp.send_raw('[2,"hb","Heartbeat",{}]'))[0] == 3:
                await asyncio.sleep(0.2)
        assert reply[2] == "SecurityError"
        await stations.update_auth("CP-LIVE", admin_state=AdminState.ACTIVE)
        async with asyncio.timeout(5):
            while (await cp.send_raw('[2,"hb","Heartbeat",{}]'))[0] == 4:
                await asyncio.sleep(0.2)
        await cp.close()


async def test_pending_201_station_may_send_only_what_was_requested(csms: Running) -> None:
    await StationStore(csms.pool).create("CS-PEND", admin_state=AdminState.PENDING)
    cs = await open_client(csms.ocpp_port, "CS-PEND", ["ocpp2.0.1"])
    boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    assert (await cs.call("BootNotification", boot))["status"] == "Pending"
    status = {
        "timestamp": "2026-05-01T00:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }
    assert (await cs.call_error("StatusNotification", status))[0] == "SecurityError"
    # once the CSMS triggers it, the station may send it
    connection = csms.gateway.registry.get("CS-PEND")
    assert connection is not None
    connection.session.note_sent("TriggerMessage", {"requestedMessage": "StatusNotification"})
    assert await cs.call("StatusNotification", status) == {}
    # B02.FR.09: by default even a TransactionEvent is refused (--unaccepted-transactions keep
    # stores it; see test_spec_guards)
    event = {
        "eventType": "Started",
        "timestamp": "2026-05-01T00:00:00Z",
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "P-1"},
    }
    assert (await cs.call_error("TransactionEvent", event))[0] == "SecurityError"
    await cs.close()


async def test_profile_1_station_without_a_password_is_refused(csms: Running) -> None:
    await StationStore(csms.pool).create("CP-P1", security_profile=1)
    assert await status_of_refusal(csms.ocpp_port, "CP-P1") == 401


async def test_permessage_deflate_is_negotiated(csms: Running) -> None:
    cs = await open_client(csms.ocpp_port, "CS-DEFLATE", ["ocpp2.0.1"])
    names = [type(e).__name__ for e in cs.ws.protocol.extensions]
    assert names == ["PerMessageDeflate"]
    await cs.close()
