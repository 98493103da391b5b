"""The station certificate lifecycle over real sockets (OCPP 2.0.1 A02/A03, M03-M05; 1.6
security whitepaper A02/A03 and its certificate messages): CSR checks, signing and
CertificateSigned, renewal before expiry, revocation refused at the profile-3 handshake, and
the install / list / delete commands, against scripted stations and the simulators."""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from websockets.exceptions import InvalidStatus

from csms.bootstrap import Running, running
from csms.clock import utcnow
from csms.pki.local_ca import init_ca
from csms.services.certificates import CertificateService
from csms.store.stations import StationStore
from simulators.backoff import BackoffPolicy
from simulators.meter import KINDS
from simulators.station.config import StationConfig
from simulators.station.station import Station
from tests.conftest import Api, api_for, make_settings
from tests.ocpp_client import OcppClient, open_client
from tests.station_responder import REPLIES_16, REPLIES_201, DuplexStation, duplex_station

ORG = "Test CPO"
STATION_TYPE = "ChargingStationCertificate"
CERT_REPLIES = {
    "CertificateSigned": {"status": "Accepted"},
    "ExtendedTriggerMessage": {"status": "Accepted"},
    "InstallCertificate": {"status": "Accepted"},
    "DeleteCertificate": {"status": "Accepted"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
}


def certificate_station(client: OcppClient, version: str) -> DuplexStation:
    replies = {**(REPLIES_16 if version == "1.6" else REPLIES_201), **CERT_REPLIES}
    return DuplexStation(client, version, replies)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def csr(common_name: str, organization: str = ORG, key: Any = None) -> str:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    request = x509.CertificateSigningRequestBuilder().subject_name(subject)
    signed = request.sign(key or new_key(), hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.PEM).decode()


def sign_request(
    version: str, pem: str, certificate_type: str | None = STATION_TYPE
) -> dict[str, Any]:
    if version == "1.6" or certificate_type is None:
        return {"csr": pem}
    return {"csr": pem, "certificateType": certificate_type}


def ocpp_hash_data(body: dict[str, str]) -> dict[str, str]:
    """The delete-certificate body (as /pki/ca gives it) as OCPP CertificateHashDataType."""
    return {
        "hashAlgorithm": body["hash_algorithm"],
        "issuerNameHash": body["issuer_name_hash"],
        "issuerKeyHash": body["issuer_key_hash"],
        "serialNumber": body["serial_number"],
    }


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ca"
    init_ca(folder, organization=ORG, common_name="Test CA", days=3650, now=utcnow())
    return folder


@pytest.fixture
async def pki(database_url: str, ca_dir: Path) -> AsyncIterator[Running]:
    async with running(make_settings(database_url, ca_dir=ca_dir)) as instance:
        yield instance


@pytest.fixture
async def pki_api(pki: Running) -> AsyncIterator[Api]:
    async with api_for(pki) as client:
        yield client


def service(csms: Running) -> CertificateService:
    certificates = csms.services.certificates
    assert certificates is not None
    return certificates


def ca_certificate(ca_dir: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())


async def issued(api: Api, station_id: str) -> list[dict[str, Any]]:
    """The station's certificates once the station answered CertificateSigned."""
    async with asyncio.timeout(10):
        while True:
            rows: list[dict[str, Any]] = ok(
                await api.get("/api/v1/certificates", params={"station_id": station_id})
            )
            if rows and all(row["delivery"] != "pending" for row in rows):
                return rows
            await asyncio.sleep(0.05)


async def obtain(
    station: DuplexStation, station_id: str, key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, dict[str, Any]]:
    """A02/A03 from the station's side: CSR in, chain out; the leaf and CertificateSigned."""
    before = len(station.sent("CertificateSigned"))
    answer = await station.call(
        "SignCertificate", sign_request(station.version, csr(station_id, key=key))
    )
    assert answer == {"status": "Accepted"}
    signed = (await station.wait_for("CertificateSigned", before + 1))[-1]
    chain = x509.load_pem_x509_certificates(signed["certificateChain"].encode())
    return chain[0], signed


# --- A02/A03: signing ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_valid_csr_is_signed_and_the_chain_delivered(
    pki: Running, pki_api: Api, ca_dir: Path, version: str
) -> None:
    station_id = f"CP-SIGN-{version}"
    key = new_key()
    async with duplex_station(pki.ocpp_port, station_id, version, certificate_station) as station:
        leaf, signed = await obtain(station, station_id, key)
        # 2.0.1: the type the station asked for; 1.6 CertificateSigned has no type
        if version == "1.6":
            assert set(signed) == {"certificateChain"}
        else:
            assert signed["certificateType"] == STATION_TYPE
        leaf.verify_directly_issued_by(ca_certificate(ca_dir))
        assert leaf.public_key() == key.public_key()
        assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == station_id
        [row] = await issued(pki_api, station_id)
    assert row["serial"] == format(leaf.serial_number, "x")
    assert (row["delivery"], row["certificate_type"]) == ("Accepted", STATION_TYPE)
    assert row["not_after"] == leaf.not_valid_after_utc.isoformat().replace("+00:00", "Z")
    assert row["command_id"] is not None and row["revoked_at"] is None
    detail = ok(await pki_api.get(f"/api/v1/certificates/{row['serial'].upper()}"))
    assert detail["pem"] == signed["certificateChain"]
    # CertificateSigned is in the command log like any command the CSMS sends
    [logged] = ok(await pki_api.get("/api/v1/commands", params={"station_id": station_id}))
    assert (logged["action"], logged["requested_by"]) == ("CertificateSigned", "csms-pki")


async def test_a_refused_chain_is_recorded_as_rejected(pki: Running, pki_api: Api) -> None:
    def refusing(client: OcppClient, version: str) -> DuplexStation:
        replies = {**REPLIES_201, **CERT_REPLIES, "CertificateSigned": {"status": "Rejected"}}
        return DuplexStation(client, version, replies)

    async with duplex_station(pki.ocpp_port, "CP-REFUSE", "2.0.1", refusing) as station:
        await obtain(station, "CP-REFUSE", new_key())
        [row] = await issued(pki_api, "CP-REFUSE")
    assert row["delivery"] == "Rejected"


def weak_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)


def bad_signature(pem: str) -> str:
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte of the signature: still well-formed, no longer valid
    return x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()


async def test_csrs_that_fail_the_checks_are_rejected_and_nothing_is_signed(
    pki: Running, pki_api: Api
) -> None:
    station_id = "CP-BAD"
    cases = [
        (csr("CP-OTHER"), STATION_TYPE, "InvalidCommonName"),  # CN = the station id
        (csr(station_id, "Other CPO"), STATION_TYPE, "InvalidOrganization"),  # O = the CPO
        (csr(station_id, key=weak_rsa()), STATION_TYPE, "WeakKey"),
        (bad_signature(csr(station_id)), STATION_TYPE, "InvalidSignature"),
        ("-----BEGIN CERTIFICATE REQUEST-----\nnope\n", STATION_TYPE, "InvalidCSR"),
        (csr(station_id), "V2GCertificate", "UnsupportedType"),  # no ISO 15118 PKI here
    ]
    async with duplex_station(pki.ocpp_port, station_id, "2.0.1", certificate_station) as station:
        for pem, kind, reason in cases:
            answer = await station.call("SignCertificate", sign_request("2.0.1", pem, kind))
            assert answer["status"] == "Rejected", (reason, answer)
            assert answer["statusInfo"]["reasonCode"] == reason
            assert answer["statusInfo"]["additionalInfo"]
        # the certificate type may be left out (A02: then the station certificate)
        assert (await station.call("SignCertificate", {"csr": csr(station_id)}))["status"] == (
            "Accepted"
        )
        [signed] = await station.wait_for("CertificateSigned")
        assert "certificateType" not in signed
    assert len(ok(await pki_api.get("/api/v1/certificates"))) == 1
    async with duplex_station(pki.ocpp_port, "CP-BAD16", "1.6", certificate_station) as old:
        answer = await old.call("SignCertificate", {"csr": csr("CP-BAD16", "Other CPO")})
        assert answer == {"status": "Rejected"}  # 1.6 has no statusInfo
        await asyncio.sleep(0.2)
        assert old.sent("CertificateSigned") == []


async def test_without_a_ca_csrs_are_rejected_and_the_routes_say_why(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, ca_dir=tmp_path / "no-ca")
    async with running(settings) as csms, api_for(csms) as api:
        async with duplex_station(csms.ocpp_port, "CP-NOCA", "2.0.1", certificate_station) as st:
            answer = await st.call("SignCertificate", sign_request("2.0.1", csr("CP-NOCA")))
            assert answer["status"] == "Rejected"
            assert answer["statusInfo"]["reasonCode"] == "NoCA"
            r = await api.post("/api/v1/stations/CP-NOCA/certificates/renew")
            assert r.status_code == 409 and "csms ca init" in r.json()["detail"]
        for path in ("/api/v1/pki/ca", "/api/v1/pki/crl"):
            r = await api.get(path)
            assert r.status_code == 409 and "csms ca init" in r.json()["detail"], path
        assert await service(csms).renew_due(utcnow() + timedelta(days=3650)) == []


# --- A02: renewal before expiry -------------------------------------------------------------


async def test_stations_are_asked_to_renew_before_expiry_once_a_day(
    pki: Running, pki_api: Api
) -> None:
    port = pki.ocpp_port
    async with (
        duplex_station(port, "CP-R201", "2.0.1", certificate_station) as new,
        duplex_station(port, "CP-R16", "1.6", certificate_station) as old,
    ):
        leaf_new, _ = await obtain(new, "CP-R201", new_key())
        leaf_old, _ = await obtain(old, "CP-R16", new_key())
        await issued(pki_api, "CP-R201")
        await issued(pki_api, "CP-R16")
        ends = sorted([leaf_new.not_valid_after_utc, leaf_old.not_valid_after_utc])
        renewals = service(pki)
        # outside the 30-day window (the default --cert-renew-days): nobody is asked
        assert await renewals.renew_due(ends[0] - timedelta(days=31)) == []
        due = ends[1] - timedelta(days=29)
        assert sorted(await renewals.renew_due(due)) == ["CP-R16", "CP-R201"]
        # 2.0.1 A02: TriggerMessage; 1.6: ExtendedTriggerMessage
        assert new.sent("TriggerMessage") == [
            {"requestedMessage": "SignChargingStationCertificate"}
        ]
        assert old.sent("ExtendedTriggerMessage") == [
            {"requestedMessage": "SignChargePointCertificate"}
        ]
        # at most once a day per station
        assert await renewals.renew_due(due + timedelta(hours=23)) == []
        again = due + timedelta(days=1, seconds=1)
        assert sorted(await renewals.renew_due(again)) == ["CP-R16", "CP-R201"]
        # a revoked certificate is not renewed
        serial = format(leaf_old.serial_number, "x")
        ok(await pki_api.post(f"/api/v1/certificates/{serial}/revoke"))
        assert await renewals.renew_due(again + timedelta(days=2)) == ["CP-R201"]
        # an operator may ask now, whatever the date
        answer = ok(await pki_api.post("/api/v1/stations/CP-R16/certificates/renew"))
        assert answer == {"station_id": "CP-R16", "status": "Accepted"}
        assert len(old.sent("ExtendedTriggerMessage")) == 3
    r = await pki_api.post("/api/v1/stations/CP-R16/certificates/renew")
    assert r.status_code == 409  # offline
    r = await pki_api.post("/api/v1/stations/CP-NOBODY/certificates/renew")
    assert r.status_code == 404
    r = await pki_api.post("/api/v1/stations/CP-R16/certificates/renew", role="viewer")
    assert r.status_code == 403


# --- revocation: the CRL and the profile-3 handshake ----------------------------------------


def client_context(server_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    server_ca.configure_trust(context)
    return context


async def test_a_revoked_certificate_is_refused_at_the_profile_3_handshake(
    database_url: str, ca_dir: Path, tmp_path: Path
) -> None:
    server_ca = trustme.CA()  # signs the CSMS's server certificate and a factory certificate
    server = server_ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    # client certificates of both CAs are trusted: the factory one, then ours
    bundle = tmp_path / "clients.pem"
    bundle.write_bytes(server_ca.cert_pem.bytes() + (ca_dir / "ca.pem").read_bytes())
    settings = make_settings(
        database_url, tls_cert=cert, tls_key=key, tls_client_ca=bundle, ca_dir=ca_dir
    )
    async with running(settings) as csms, api_for(csms) as api:
        await StationStore(csms.pool).create("CP-P3", security_profile=3)
        port = csms.ocpp_port
        factory = client_context(server_ca)
        server_ca.issue_cert("CP-P3", common_name="CP-P3").configure_cert(factory)
        client = await open_client(port, "CP-P3", ssl=factory)
        station = certificate_station(client, "1.6")
        task = asyncio.create_task(station.serve())
        try:
            await station.boot()
            station_key = new_key()
            leaf, signed = await obtain(station, "CP-P3", station_key)
        finally:
            await client.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        leaf_file, key_file = tmp_path / "station.pem", tmp_path / "station.key"
        leaf_file.write_text(signed["certificateChain"])
        key_file.write_bytes(
            station_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        ours = client_context(server_ca)
        ours.load_cert_chain(leaf_file, key_file)
        client = await open_client(port, "CP-P3", ssl=ours)  # the new certificate works
        await client.close()

        serial = format(leaf.serial_number, "x")
        revoked = ok(
            await api.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": "key leaked"})
        )
        assert revoked["revoked_at"] is not None and revoked["revocation_reason"] == "key leaked"
        with pytest.raises(InvalidStatus) as refused:
            await open_client(port, "CP-P3", ssl=ours)
        assert refused.value.response.status_code == 401
        assert b"revoked" in refused.value.response.body
        client = await open_client(port, "CP-P3", ssl=factory)  # other certificates still work
        await client.close()

        # revoking again changes nothing; the audit has one entry
        again = ok(await api.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": "x"}))
        assert (
            again["revoked_at"] == revoked["revoked_at"]
            and again["revocation_reason"] == "key leaked"
        )
        audit = ok(await api.get("/api/v1/audit", params={"subject_id": "CP-P3"}))
        assert [a["action"] for a in audit] == ["revoke-certificate"]
        assert audit[0]["detail"] == {"serial": serial, "reason": "key leaked"}

        # the CRL lists it, signed by the CA
        authority = ca_certificate(ca_dir)
        pem = await api.get("/api/v1/pki/crl")
        assert pem.headers["content-type"].startswith("application/x-pem-file")
        der = await api.get("/api/v1/pki/crl", params={"format": "der"})
        for crl in (
            x509.load_pem_x509_crl(pem.content),
            x509.load_der_x509_crl(der.content),
        ):
            assert crl.is_signature_valid(authority.public_key())  # type: ignore[arg-type]
            assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None
            assert len(list(crl)) == 1

        assert (await api.post("/api/v1/certificates/abc123/revoke")).status_code == 404
        assert (await api.post("/api/v1/certificates/not-hex/revoke")).status_code == 422
        assert (
            await api.post(f"/api/v1/certificates/{serial}/revoke", role="viewer")
        ).status_code == 403


# --- M03-M05: certificates installed on a station -------------------------------------------


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_install_list_and_delete_certificates_on_a_station(
    pki: Running, pki_api: Api, ca_dir: Path, version: str
) -> None:
    station_id = f"CP-M-{version}"
    root = (ca_dir / "ca.pem").read_text()
    authority = ok(await pki_api.get("/api/v1/pki/ca"))
    assert authority["organization"] == ORG and authority["certificate"] == root
    base = f"/api/v1/stations/{station_id}/commands"
    async with duplex_station(pki.ocpp_port, station_id, version, certificate_station) as station:
        body = {"certificate_type": "csms-root", "certificate": root}
        answer = ok(await pki_api.post(f"{base}/install-certificate", json=body))
        assert answer["response"] == {"status": "Accepted"}
        kinds = {"certificate_types": ["csms-root"]}
        ok(await pki_api.post(f"{base}/get-installed-certificate-ids", json=kinds))
        ok(await pki_api.post(f"{base}/delete-certificate", json=authority["hash_data"]))
        [install] = station.sent("InstallCertificate")
        [listing] = station.sent("GetInstalledCertificateIds")
        [delete] = station.sent("DeleteCertificate")
    if version == "1.6":
        assert install == {"certificateType": "CentralSystemRootCertificate", "certificate": root}
        assert listing == {"certificateType": "CentralSystemRootCertificate"}
    else:
        assert install == {"certificateType": "CSMSRootCertificate", "certificate": root}
        assert listing == {"certificateType": ["CSMSRootCertificate"]}
    assert delete == {"certificateHashData": ocpp_hash_data(authority["hash_data"])}


async def test_certificate_commands_refuse_what_the_version_or_the_pem_cannot_be(
    pki: Running, pki_api: Api, ca_dir: Path
) -> None:
    root = (ca_dir / "ca.pem").read_text()
    key = new_key()
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(utcnow())
        .not_valid_after(utcnow() + timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    async with (
        duplex_station(pki.ocpp_port, "CP-V16", "1.6", certificate_station) as old,
        duplex_station(pki.ocpp_port, "CP-V201", "2.0.1", certificate_station) as new,
    ):
        refused = [
            (
                "CP-V16",
                "install-certificate",
                {"certificate_type": "v2g-root", "certificate": root},
            ),
            ("CP-V16", "get-installed-certificate-ids", {"certificate_types": []}),
            (
                "CP-V16",
                "get-installed-certificate-ids",
                {"certificate_types": ["csms-root", "manufacturer-root"]},
            ),
            (
                "CP-V201",
                "install-certificate",
                {"certificate_type": "csms-root", "certificate": leaf},
            ),
            (
                "CP-V201",
                "install-certificate",
                {"certificate_type": "csms-root", "certificate": "x"},
            ),
            (
                "CP-V201",
                "install-certificate",
                {"certificate_type": "v2g-chain", "certificate": root},
            ),
            (
                "CP-V201",
                "delete-certificate",
                {
                    "hash_algorithm": "MD5",
                    "issuer_name_hash": "ab",
                    "issuer_key_hash": "cd",
                    "serial_number": "1",
                },
            ),
            (
                "CP-V201",
                "delete-certificate",
                {
                    "hash_algorithm": "SHA256",
                    "issuer_name_hash": "zz",
                    "issuer_key_hash": "cd",
                    "serial_number": "1",
                },
            ),
        ]
        for station_id, command, body in refused:
            r = await pki_api.post(f"/api/v1/stations/{station_id}/commands/{command}", json=body)
            assert r.status_code == 422, (station_id, command, body, r.text)
        # 2.0.1 may ask about every type at once
        r = await pki_api.post(
            "/api/v1/stations/CP-V201/commands/get-installed-certificate-ids", json={}
        )
        assert r.status_code == 200, r.text
        assert new.sent("GetInstalledCertificateIds") == [{}]
        for station in (old, new):
            assert station.sent("InstallCertificate") == station.sent("DeleteCertificate") == []


# --- the simulators ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_simulated_stations_renew_and_manage_certificates(
    pki: Running, pki_api: Api, ca_dir: Path, version: str
) -> None:
    station_id = f"SIM-CERT-{version}"
    config = StationConfig(
        station_id=station_id,
        url=f"ws://127.0.0.1:{pki.ocpp_port}/ocpp",
        version=version,
        kind=KINDS["ac7"],
        cpo_name=ORG,
        backoff=BackoffPolicy(0.2, 0.1, 3),
        call_timeout=10.0,
    )
    station = Station(config, rng=random.Random(5))
    stop = asyncio.Event()
    root = (ca_dir / "ca.pem").read_text()
    authority = ok(await pki_api.get("/api/v1/pki/ca"))
    expected = ocpp_hash_data(authority["hash_data"])
    base = f"/api/v1/stations/{station_id}/commands"
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(station.run(stop=stop, drain_timeout=5))
        try:
            async with asyncio.timeout(30):
                await station.wait_online()
            answer = ok(await pki_api.post(f"/api/v1/stations/{station_id}/certificates/renew"))
            assert answer["status"] == "Accepted"
            [row] = await issued(pki_api, station_id)
            assert row["delivery"] == "Accepted"
            wallet = station.dialect.certificates.wallet  # type: ignore[attr-defined]
            assert format(wallet.chain[0].serial_number, "x") == row["serial"]

            body = {"certificate_type": "csms-root", "certificate": root}
            answer = ok(await pki_api.post(f"{base}/install-certificate", json=body))
            assert answer["response"] == {"status": "Accepted"}
            kinds = {"certificate_types": ["csms-root"]}
            listed = ok(await pki_api.post(f"{base}/get-installed-certificate-ids", json=kinds))
            if version == "1.6":
                assert listed["response"]["certificateHashData"] == [expected]
            else:
                [chain] = listed["response"]["certificateHashDataChain"]
                assert chain["certificateType"] == "CSMSRootCertificate"
                assert chain["certificateHashData"] == expected
            deleted = ok(
                await pki_api.post(f"{base}/delete-certificate", json=authority["hash_data"])
            )
            assert deleted["response"] == {"status": "Accepted"}
            listed = ok(await pki_api.post(f"{base}/get-installed-certificate-ids", json=kinds))
            assert listed["response"] == {"status": "NotFound"}
        finally:
            stop.set()


async def test_a_blocked_station_is_not_asked_to_renew_and_the_sweep_goes_on(
    pki: Running, pki_api: Api
) -> None:
    """2.0.1 B03.FR.03: the CSMS sends a Rejected station nothing; the refusal is recorded so
    the sweep does not try it again that day, and the other stations are still asked."""
    port = pki.ocpp_port
    async with (
        duplex_station(port, "CP-BLK", "2.0.1", certificate_station) as blocked,
        duplex_station(port, "CP-FINE", "2.0.1", certificate_station) as fine,
    ):
        leaf, _ = await obtain(blocked, "CP-BLK", new_key())
        await obtain(fine, "CP-FINE", new_key())
        await issued(pki_api, "CP-BLK")
        await issued(pki_api, "CP-FINE")
        ok(await pki_api.post("/api/v1/stations/CP-BLK/block"))
        due = leaf.not_valid_after_utc - timedelta(days=1)
        assert await service(pki).renew_due(due) == ["CP-FINE"]
        assert blocked.sent("TriggerMessage") == []
        assert len(fine.sent("TriggerMessage")) == 1
        renewal = await pki.pool.fetchrow(
            "SELECT requested_at, outcome FROM certificate_renewals WHERE station_id = 'CP-BLK'"
        )
        assert renewal["requested_at"] == due and renewal["outcome"].startswith("refused: ")
        assert await service(pki).renew_due(due + timedelta(hours=1)) == []
