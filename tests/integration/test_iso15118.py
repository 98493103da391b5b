"""ISO 15118 Plug & Charge plumbing over real sockets (issue 16): 2.0.1 M06 (Get15118EVCertificate,
GetCertificateStatus) relayed to the configured provider, and C07 (Authorize with
iso15118CertificateHashData answered with certificateStatus). A provider that fails, hangs or
answers garbage gets the station the spec's failure answer, never a CALLERROR or a crash."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import pytest

from csms.bootstrap import running
from csms.config import settings_from
from csms.domain.token import IdToken
from csms.errors import ConfigError
from csms.iso15118 import fixture_provider as fixture
from csms.iso15118.model import EvCertificateRequest, OcspRequestData
from csms.store.tokens import TokenStore
from simulators.fleet.scenario import load as load_scenario
from simulators.meter import KINDS
from simulators.station.config import StationConfig
from simulators.station.session import SessionPlan, run_session
from simulators.station.station import Station
from tests.conftest import make_settings
from tests.ocpp_client import OcppClient, open_client

EMAID = "CNSZCE0000001A"
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "R", "vendorName": "T"}}
INSTALL = {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install"}


def ocsp(serial: str) -> dict[str, str]:
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": fixture.ISSUER_NAME_HASH,
        "issuerKeyHash": fixture.ISSUER_KEY_HASH.upper(),  # hex case does not matter
        "serialNumber": serial,
        "responderURL": "http://ocsp.example.invalid",
    }


def authorize(*serials: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"idToken": {"idToken": EMAID, "type": "eMAID"}}
    if serials:
        payload["iso15118CertificateHashData"] = [ocsp(s) for s in serials]
    return payload


class Garbage:
    """A provider answering shapes the schemas forbid: never passed on."""

    async def get_15118_ev_certificate(self, request: EvCertificateRequest) -> object:
        return {"status": "Accepted", "exi_response": "not base64 !!"}

    async def certificate_status(self, ocsp: OcspRequestData) -> object:
        return {"status": "Accepted", "ocsp_result": "x" * 6000}

    async def authorize_hashes(self, hashes: Sequence[OcspRequestData]) -> object:
        return ["Maybe"] * len(hashes)  # not an AuthorizeCertificateStatusEnumType value


class Raising:
    """A provider whose every call raises, as a broken client library would."""

    async def get_15118_ev_certificate(self, request: EvCertificateRequest) -> object:
        raise RuntimeError("boom")

    async def certificate_status(self, ocsp: OcspRequestData) -> object:
        raise RuntimeError("boom")

    async def authorize_hashes(self, hashes: Sequence[OcspRequestData]) -> object:
        raise RuntimeError("boom")


def garbage() -> Garbage:
    return Garbage()


raising = Raising()  # an instance works as well as a factory


async def _station(database_url: str, provider: str | None) -> AsyncIterator[OcppClient]:
    async with running(make_settings(database_url, iso15118_provider=provider)) as csms:
        await TokenStore(csms.pool).put(IdToken(EMAID, token_type="eMAID"))
        client = await open_client(csms.ocpp_port, "PNC-1", ["ocpp2.0.1"])
        await client.call("BootNotification", BOOT)
        try:
            yield client
        finally:
            await client.close()


@pytest.fixture
async def station(database_url: str) -> AsyncIterator[OcppClient]:
    """A booted 2.0.1 station at a CSMS using the built-in test provider."""
    async for client in _station(database_url, "test"):
        yield client


async def test_ev_certificate_is_relayed(station: OcppClient) -> None:
    """M06 (the EV's CertificateInstallationReq): the provider's EXI response when it has one,
    Failed otherwise (exiResponse is required, so it is empty)."""
    known = await station.call(
        "Get15118EVCertificate", {**INSTALL, "exiRequest": fixture.EXI_REQUEST}
    )
    assert known == {
        "status": "Accepted",
        "exiResponse": fixture.BUILTIN["ev_certificates"][fixture.EXI_REQUEST],
    }
    other = base64.b64encode(b"another EV").decode()
    unknown = await station.call("Get15118EVCertificate", {**INSTALL, "exiRequest": other})
    assert unknown == {"status": "Failed", "exiResponse": ""}


async def test_certificate_status_is_relayed(station: OcppClient) -> None:
    """M06: Accepted with the OCSP response for a certificate the provider knows (revoked ones
    too: the OCSP response says revoked); Failed, without ocspResult, for others."""
    good = await station.call(
        "GetCertificateStatus", {"ocspRequestData": ocsp(fixture.GOOD_SERIAL)}
    )
    assert good["status"] == "Accepted"
    assert base64.b64decode(good["ocspResult"]) == b"test OCSPResponse good"
    unknown = await station.call("GetCertificateStatus", {"ocspRequestData": ocsp("01")})
    assert unknown == {"status": "Failed"}


async def test_authorize_with_hash_data_answers_certificate_status(station: OcppClient) -> None:
    """C07: certificateStatus for the contract chain; a chain that is not Accepted refuses the
    eMAID. Without hash data, Authorize is answered as before (no certificateStatus)."""
    good = await station.call("Authorize", authorize(fixture.GOOD_SERIAL))
    assert good["certificateStatus"] == "Accepted"
    assert good["idTokenInfo"]["status"] == "Accepted"
    revoked = await station.call(
        "Authorize", authorize(fixture.GOOD_SERIAL, fixture.REVOKED_SERIAL)
    )
    assert revoked["certificateStatus"] == "CertificateRevoked"
    assert revoked["idTokenInfo"]["status"] == "Invalid"
    unknown = await station.call("Authorize", authorize("0BAD"))
    assert unknown["certificateStatus"] == "CertChainError"
    assert unknown["idTokenInfo"]["status"] == "Invalid"
    plain = await station.call("Authorize", authorize())
    assert plain == {"idTokenInfo": {"status": "Accepted"}}


@pytest.mark.parametrize(
    "provider",
    [
        None,  # none configured
        "test:fail",  # told to fail: an unreachable provider
        "python:tests.integration.test_iso15118:garbage",
        "python:tests.integration.test_iso15118:raising",
    ],
)
async def test_a_failing_provider_gets_the_station_a_failure_answer(
    database_url: str, provider: str | None
) -> None:
    """Failed for M06, NoCertificateAvailable (and an Invalid eMAID) for C07; the connection
    stays up and answers the next message."""
    async for client in _station(database_url, provider):
        ev = await client.call(
            "Get15118EVCertificate", {**INSTALL, "exiRequest": fixture.EXI_REQUEST}
        )
        assert ev == {"status": "Failed", "exiResponse": ""}
        status = await client.call(
            "GetCertificateStatus", {"ocspRequestData": ocsp(fixture.GOOD_SERIAL)}
        )
        assert status == {"status": "Failed"}
        auth = await client.call("Authorize", authorize(fixture.GOOD_SERIAL))
        assert auth["certificateStatus"] == "NoCertificateAvailable"
        assert auth["idTokenInfo"]["status"] == "Invalid"
        assert "currentTime" in await client.call("Heartbeat", {})


async def test_a_hanging_provider_times_out(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider that never answers costs the station at most the relay's timeout."""
    from csms.iso15118 import relay

    monkeypatch.setattr(relay, "PROVIDER_TIMEOUT", 0.2)
    monkeypatch.setattr(Raising, "certificate_status", _hang)
    async for client in _station(database_url, "python:tests.integration.test_iso15118:Raising"):
        async with asyncio.timeout(5):
            answer = await client.call(
                "GetCertificateStatus", {"ocspRequestData": ocsp(fixture.GOOD_SERIAL)}
            )
        assert answer == {"status": "Failed"}


async def _hang(self: Raising, ocsp: OcspRequestData) -> object:
    await asyncio.Event().wait()
    return None


@pytest.mark.parametrize(
    "spec", ["tset", "python:nomodule", "python:json:nothing", "test:/no/such/fixture.json"]
)
def test_a_wrong_provider_is_a_configuration_error(spec: str) -> None:
    from csms.iso15118.loading import load_provider

    with pytest.raises(ConfigError):
        load_provider(settings_from(env={"CSMS_ISO15118_PROVIDER": spec}).iso15118_provider)


async def test_the_simulator_starts_by_contract(database_url: str) -> None:
    """csms-sim's plug-and-charge scenario contract is one the test provider knows: the 2.0.1
    simulator fetches the certificate, checks its status and authorizes with the hash data, and
    charges; with the revoked certificate in its chain the same car is refused."""
    contract = load_scenario("plug-and-charge").plug_and_charge
    assert contract is not None
    good = contract.contract
    revoked = replace(
        good, hashes=(*good.hashes, replace(good.hashes[0], serial_number=fixture.REVOKED_SERIAL))
    )
    async with running(make_settings(database_url, iso15118_provider="test")) as csms:
        await TokenStore(csms.pool).put(IdToken(good.emaid, token_type="eMAID"))
        config = StationConfig(
            station_id="PNC-SIM",
            url=f"ws://127.0.0.1:{csms.ocpp_port}/ocpp",
            version="2.0.1",
            kind=KINDS["dc60"],
            meter_interval=60,
            call_timeout=10.0,
        )
        sim = Station(config, rng=random.Random(11))
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(sim.run(stop=stop, drain_timeout=5))
            try:
                async with asyncio.timeout(30):
                    await sim.wait_online()
                    results = [
                        await run_session(
                            sim,
                            sim.evses[1],
                            SessionPlan(
                                id_tag=c.emaid,
                                duration_s=0.5,
                                token_type="eMAID",
                                unplug_delay_s=0.1,
                                contract=c,
                            ),
                        )
                        for c in (good, revoked)
                    ]
            finally:
                stop.set()
        assert [r.authorized for r in results] == [True, False]
        rows = await csms.pool.fetch(
            "SELECT id_token FROM transactions WHERE station_id = $1", "PNC-SIM"
        )
        assert [r["id_token"] for r in rows] == [good.emaid]
