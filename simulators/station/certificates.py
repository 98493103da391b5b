"""What a simulated station keeps of its certificates: its key pair, the chain the CSMS signed,
and the root certificates it was told to trust (OCPP 2.0.1 A02/A03, M03-M05; 1.6 security
whitepaper). No I/O: the version modules turn its answers into OCPP messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HASHES = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}


def _key_bits(cert: x509.Certificate) -> bytes:
    """The subjectPublicKey bits of a certificate's key (RFC 6960 §4.1.1 issuerKeyHash)."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, start = _tlv(spki, 0)
    algorithm_end, _ = _tlv(spki, start)
    _, key_start = _tlv(spki, algorithm_end)
    return spki[key_start + 1 :]  # after the BIT STRING's unused-bits octet


def _tlv(der: bytes, at: int) -> tuple[int, int]:
    length = der[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    return start + length, start


def hash_data(cert: x509.Certificate, algorithm: str = "SHA256") -> dict[str, str]:
    """CertificateHashDataType of a self-signed root (its own issuer)."""
    digest = HASHES[algorithm]
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": digest(cert.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": digest(_key_bits(cert)).hexdigest(),
        "serialNumber": format(cert.serial_number, "x"),
    }


def _matches(cert: x509.Certificate, wanted: dict[str, str]) -> bool:
    """Whether hash data names `cert` (hex compared case-blind, serials as numbers)."""
    algorithm = wanted.get("hashAlgorithm", "")
    if algorithm not in HASHES:
        return False
    mine = hash_data(cert, algorithm)
    try:
        serial = int(wanted.get("serialNumber", ""), 16)
    except ValueError:
        return False
    return (
        serial == cert.serial_number
        and mine["issuerNameHash"] == wanted.get("issuerNameHash", "").lower()
        and mine["issuerKeyHash"] == wanted.get("issuerKeyHash", "").lower()
    )


@dataclass(slots=True)
class CertificateWallet:
    station_id: str
    organization: str  # the CPO name (1.6 CpoName, 2.0.1 SecurityCtrlr.OrganizationName)
    key: ec.EllipticCurvePrivateKey | None = None  # the key of `chain`
    chain: list[x509.Certificate] = field(default_factory=list)  # leaf first
    # a key whose CSR is out for signing; it never leaves the station (A02)
    _pending: ec.EllipticCurvePrivateKey | None = None
    roots: dict[str, list[x509.Certificate]] = field(default_factory=dict)  # by OCPP type

    def new_csr(self) -> str:
        """A fresh key and a PEM CSR for it: CN = station id, O = the CPO name."""
        self._pending = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization),
                x509.NameAttribute(NameOID.COMMON_NAME, self.station_id),
            ]
        )
        csr = x509.CertificateSigningRequestBuilder().subject_name(subject)
        signed = csr.sign(self._pending, hashes.SHA256())
        return signed.public_bytes(serialization.Encoding.PEM).decode()

    def accept_chain(self, pem: str) -> bool:
        """CertificateSigned: keep the chain when its leaf is for the pending key and names
        this station (A02: otherwise Rejected, and the old certificate stays)."""
        try:
            certs = x509.load_pem_x509_certificates(pem.encode())
        except ValueError:
            return False
        if not certs or self._pending is None:
            return False
        leaf = certs[0]
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or names[0].value != self.station_id:
            return False
        if leaf.public_key() != self._pending.public_key():
            return False
        self.key, self.chain, self._pending = self._pending, certs, None
        return True

    def install(self, kind: str, pem: str) -> str:
        """InstallCertificate status: Accepted, or Rejected for what is no CA certificate."""
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except (ValueError, x509.ExtensionNotFound):
            return "Rejected"
        if not is_ca:
            return "Rejected"
        held = self.roots.setdefault(kind, [])
        if all(c.fingerprint(hashes.SHA256()) != cert.fingerprint(hashes.SHA256()) for c in held):
            held.append(cert)
        return "Accepted"

    def installed(self, kinds: list[str]) -> list[tuple[str, dict[str, str]]]:
        """(type, hash data) of every root of the given types (all types when none given)."""
        return [
            (kind, hash_data(cert))
            for kind, certs in sorted(self.roots.items())
            if not kinds or kind in kinds
            for cert in certs
        ]

    def delete(self, wanted: dict[str, str]) -> str:
        """DeleteCertificate status: Accepted, or NotFound."""
        for certs in self.roots.values():
            for cert in certs:
                if _matches(cert, wanted):
                    certs.remove(cert)
                    return "Accepted"
        return "NotFound"
