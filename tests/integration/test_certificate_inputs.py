"""Certificate input a review with a CA configured found mishandled: a CSR whose subject does
not decode, a root certificate whose extensions do not, and a CA that has expired."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from csms.bootstrap import Running, running
from csms.clock import utcnow
from csms.pki.local_ca import LocalCa, init_ca
from tests.conftest import Api, api_for, make_settings
from tests.integration import test_certificates
from tests.integration.test_certificates import ORG, STATION_TYPE, certificate_station, csr, ok
from tests.ocpp_client import open_client
from tests.station_responder import duplex_station

# the CA-configured server and its API, as test_certificates makes them
ca_dir = test_certificates.ca_dir
pki = test_certificates.pki
pki_api = test_certificates.pki_api

# -- DER by hand: cryptography's builder will not write the broken subjects a station might ---


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    size = (
        bytes([n])
        if n < 128
        else bytes([0x80 | ((n.bit_length() + 7) // 8)])
        + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + size + body


def _seq(*parts: bytes) -> bytes:
    return _der(0x30, b"".join(parts))


def _oid(dotted: str) -> bytes:
    arcs = [int(x) for x in dotted.split(".")]
    out = bytes([40 * arcs[0] + arcs[1]])
    for value in arcs[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.insert(0, 0x80 | (value & 0x7F))
            value >>= 7
        out += bytes(chunk)
    return _der(0x06, out)


def _attribute(oid: str, tag: int, raw: bytes) -> bytes:
    return _der(0x31, _seq(_oid(oid), _der(tag, raw)))


def _signed_csr(subject: bytes) -> str:
    """A CSR with this subject (DER of its RDNs), validly signed with a fresh P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tbs = _seq(_der(0x02, b"\x00"), _der(0x30, subject), spki, b"\xa0\x00")
    signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    der = _seq(tbs, _seq(_oid("1.2.840.10045.4.3.2")), _der(0x03, b"\x00" + signature))
    text = base64.b64encode(der).decode()
    lines = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{lines}\n-----END CERTIFICATE REQUEST-----\n"


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize(
    "unit",
    [
        pytest.param(_attribute("2.5.4.11", 0x0C, b"\xff\xfe"), id="OU-invalid-UTF-8"),
        pytest.param(_attribute("2.5.4.11", 0x02, b"\x01"), id="OU-an-INTEGER"),
    ],
)
async def test_a_csr_whose_subject_does_not_decode_is_rejected(
    pki: Running,
    version: str,
    unit: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    station_id = f"CP-SUBJ-{version}"
    subject = (
        _attribute("2.5.4.10", 0x0C, ORG.encode())
        + _attribute("2.5.4.3", 0x0C, station_id.encode())
        + unit
    )
    client = await open_client(pki.ocpp_port, station_id, [f"ocpp{version}"])
    try:
        payload: dict[str, Any] = {"csr": _signed_csr(subject)}
        if version == "2.0.1":
            payload["certificateType"] = STATION_TYPE
        reply = await client.send_raw(json.dumps([2, "s1", "SignCertificate", payload]))
    finally:
        await client.close()
    assert reply[0] == 3 and reply[2]["status"] == "Rejected", reply
    if version == "2.0.1":
        assert reply[2]["statusInfo"]["reasonCode"] == "InvalidCSR"
    assert _errors(caplog) == []


def _root(name: str, *extensions: x509.ExtensionType) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _twice_constrained_root() -> str:
    """basicConstraints twice (RFC 5280 4.2: an extension appears once): an unknown extension
    holding the same value, renamed to basicConstraints in the DER."""
    same = x509.BasicConstraints(ca=True, path_length=None).public_bytes()
    der = _root("twice", x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.99"), same))
    der = der.replace(b"\x06\x03\x55\x1d\x63", b"\x06\x03\x55\x1d\x13")
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def _x400_root() -> str:
    """A subjectAltName holding an x400Address: RFC 5280 allows it, cryptography cannot read it."""
    san = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.17"), _seq(_der(0xA3, _seq())))
    der = _root("x400", san)
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize("make", [_twice_constrained_root, _x400_root])
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_root_whose_extensions_do_not_decode_is_422(
    pki: Running,
    pki_api: Api,
    version: str,
    make: Any,
) -> None:
    station_id = f"CP-ROOT-{version}"
    async with duplex_station(pki.ocpp_port, station_id, version, certificate_station) as station:
        body = {"certificate_type": "csms-root", "certificate": make()}
        reply = await pki_api.post(
            f"/api/v1/stations/{station_id}/commands/install-certificate", json=body
        )
        assert reply.status_code == 422, reply.text
        assert "extensions cannot be read" in reply.text
        assert station.sent("InstallCertificate") == []


async def test_an_expired_ca_answers_rejected_and_issues_nothing(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """It answered Accepted, then failed to sign (a traceback) and sent nothing."""
    folder = tmp_path / "old-ca"
    init_ca(
        folder, organization=ORG, common_name="Old CA", days=1, now=utcnow() - timedelta(days=3)
    )
    async with running(make_settings(database_url, ca_dir=folder)) as csms, api_for(csms) as api:
        async with duplex_station(
            csms.ocpp_port, "CP-OLDCA", "2.0.1", certificate_station
        ) as station:
            answer = await station.call("SignCertificate", {"csr": csr("CP-OLDCA")})
            await asyncio.sleep(0.5)
            assert station.sent("CertificateSigned") == []
        issued = ok(await api.get("/api/v1/certificates"))
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "CAExpired"
    assert issued == []
    assert [m for m in _errors(caplog) if "Traceback" in m or "failed" in m] == []


async def test_a_ca_expired_minutes_ago_signs_nothing(tmp_path: Path) -> None:
    """Within the five-minute backdate it issued a certificate that had already expired."""
    now = utcnow()
    init_ca(
        tmp_path, organization=ORG, common_name="CA", days=1, now=now - timedelta(days=1, minutes=2)
    )
    ca = LocalCa.load(tmp_path, valid_days=30)
    request = x509.load_pem_x509_csr(csr("CP-LATE").encode())
    with pytest.raises(ValueError, match="has expired"):
        await ca.sign(request, "CP-LATE", now)
