"""CSR checks, the built-in CA and certificate hash data (OCPP 2.0.1 A02/A03, M; 1.6 security
whitepaper), without a database or a socket."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from csms.errors import ConfigError
from csms.pki.authority import Revocation
from csms.pki.csr import CsrProblem, check_csr
from csms.pki.hash_data import hash_data
from csms.pki.local_ca import LocalCa, NoCa, init_ca
from simulators.station.certificates import hash_data as simulator_hash_data

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ORG = "Shuozhou CPO"


def csr_pem(
    common_name: str | None = "CP-1",
    organization: str | None = ORG,
    key: object | None = None,
) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    names = []
    if organization is not None:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if common_name is not None:
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    csr = builder.sign(key, algorithm)  # type: ignore[arg-type]
    return csr.public_bytes(serialization.Encoding.PEM).decode()


# A CSR on brainpoolP160r1 (made with `openssl ecparam -name brainpoolP160r1 -genkey` and
# `openssl req -new -subj "/O=Shuozhou CPO/CN=CP-1"`): `cryptography` cannot load such a key at
# all (UnsupportedAlgorithm), which must be a refusal, not a CALLERROR.
UNSUPPORTED_CURVE_CSR = """\
-----BEGIN CERTIFICATE REQUEST-----
MIGxMHECAQAwJjEVMBMGA1UECgwMU2h1b3pob3UgQ1BPMQ0wCwYDVQQDDARDUC0x
MEIwFAYHKoZIzj0CAQYJKyQDAwIIAQEBAyoABG60wGrb9Ipe9EpmXKf836fv5nBI
i4AXixyyo5ZgOJMgdjiQtvljBXegADAKBggqhkjOPQQDAgMwADAtAhRTosDUmFTd
RhZSJmBnREu72LCzsgIVAMBTVXXx2fol03WHHCW8QoF+BJL4
-----END CERTIFICATE REQUEST-----
"""


def tampered(pem: str) -> str:
    """The same CSR with its signature's last byte changed (still well-formed DER)."""
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01
    csr = x509.load_der_x509_csr(bytes(der))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("pem", "reason"),
    [
        ("not a csr", "InvalidCSR"),
        (
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            "InvalidCSR",
        ),
        (tampered(csr_pem()), "InvalidSignature"),
        (csr_pem(common_name="CP-2"), "InvalidCommonName"),
        (csr_pem(common_name=None), "InvalidCommonName"),
        (csr_pem(organization="Other CPO"), "InvalidOrganization"),
        (csr_pem(organization=None), "InvalidOrganization"),
        (csr_pem(key=rsa.generate_private_key(65537, 1024)), "WeakKey"),
        (csr_pem(key=ec.generate_private_key(ec.SECP256K1())), "WeakKey"),
        (csr_pem(key=ed25519.Ed25519PrivateKey.generate()), "WeakKey"),
        (UNSUPPORTED_CURVE_CSR, "WeakKey"),
    ],
)
def test_csrs_that_may_not_be_signed(pem: str, reason: str) -> None:
    with pytest.raises(CsrProblem) as refused:
        check_csr(pem, station_id="CP-1", organization=ORG)
    assert refused.value.reason_code == reason
    assert len(reason) <= 20  # StatusInfoType.reasonCode


@pytest.mark.parametrize(
    "key",
    [
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
        rsa.generate_private_key(65537, 2048),
    ],
)
def test_csrs_that_pass(key: object) -> None:
    csr = check_csr(csr_pem(key=key), station_id="CP-1", organization=ORG)
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP-1"


def test_the_ca_key_is_private_and_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "ca"
    with pytest.raises(NoCa):
        LocalCa.load(folder, valid_days=30)
    cert = init_ca(folder, organization=ORG, common_name="Test CA", days=3650, now=NOW)
    assert stat.S_IMODE((folder / "ca.key").stat().st_mode) == 0o600
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(ConfigError, match="already holds a CA"):
        init_ca(folder, organization=ORG, common_name="Again", days=10, now=NOW)
    ca = LocalCa.load(folder, valid_days=30)
    assert ca.organization == ORG and "PRIVATE" not in repr(ca)
    (folder / "ca.key").chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        LocalCa.load(folder, valid_days=30)


def test_the_ca_signs_a_client_certificate_and_lists_revocations(tmp_path: Path) -> None:
    init_ca(tmp_path, organization=ORG, common_name="Test CA", days=3650, now=NOW)
    ca = LocalCa.load(tmp_path, valid_days=365)
    key = ec.generate_private_key(ec.SECP256R1())
    csr = check_csr(csr_pem(key=key), station_id="CP-1", organization=ORG)
    [leaf] = asyncio.run(ca.sign(csr, "CP-1", NOW))
    leaf.verify_directly_issued_by(ca.certificate)
    assert leaf.subject == csr.subject and leaf.public_key() == key.public_key()
    assert leaf.not_valid_after_utc == NOW + timedelta(days=365)
    assert leaf.not_valid_before_utc <= NOW
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    crl = asyncio.run(ca.crl([Revocation(leaf.serial_number, NOW)], NOW))
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    revoked = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    assert revoked is not None and revoked.revocation_date_utc == NOW
    assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number + 2) is None


def test_a_station_certificate_ends_with_its_ca(tmp_path: Path) -> None:
    init_ca(tmp_path, organization=ORG, common_name="Test CA", days=100, now=NOW)
    ca = LocalCa.load(tmp_path, valid_days=365)
    csr = check_csr(csr_pem(), station_id="CP-1", organization=ORG)
    [leaf] = asyncio.run(ca.sign(csr, "CP-1", NOW))
    assert leaf.not_valid_after_utc == ca.certificate.not_valid_after_utc


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
def test_hash_data_is_the_ocsp_cert_id(tmp_path: Path, algorithm: str) -> None:
    """issuerNameHash / issuerKeyHash are computed as RFC 6960 CertID (2.0.1 §2.6): checked
    against the OCSP request builder of `cryptography`, for the CSMS and the simulator."""
    init_ca(tmp_path, organization=ORG, common_name="Test CA", days=100, now=NOW)
    ca = LocalCa.load(tmp_path, valid_days=30)
    csr = check_csr(csr_pem(), station_id="CP-1", organization=ORG)
    [leaf] = asyncio.run(ca.sign(csr, "CP-1", NOW))
    digest = {"SHA256": hashes.SHA256(), "SHA384": hashes.SHA384(), "SHA512": hashes.SHA512()}
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, ca.certificate, digest[algorithm])
    built = request.build()
    expected = {
        "hashAlgorithm": algorithm,
        "issuerNameHash": built.issuer_name_hash.hex(),
        "issuerKeyHash": built.issuer_key_hash.hex(),
        "serialNumber": format(leaf.serial_number, "x"),
    }
    assert hash_data(leaf, ca.certificate, algorithm) == expected
    root = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(ca.certificate, ca.certificate, digest[algorithm])
        .build()
    )
    assert (
        simulator_hash_data(ca.certificate, algorithm)["issuerKeyHash"]
        == root.issuer_key_hash.hex()
    )
