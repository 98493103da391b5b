"""CertificateHashDataType of a certificate (2.0.1 Part 2 data types; 1.6 whitepaper). Pure.

issuerNameHash is the hash of the DER issuer name, issuerKeyHash the hash of the issuer's
public key bits (as in OCSP, RFC 6960 §4.1.1), serialNumber the serial in hex.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HASHES = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}


def _key_bits(issuer: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING contents of the issuer (not the whole SPKI)."""
    spki = issuer.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    # SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING }: the key is the BIT STRING's payload
    # after its unused-bits octet. Parse the two outer lengths rather than guess offsets.
    _, body = _tlv(spki, 0)
    algorithm_end, _ = _tlv(spki, body)
    _, key_start = _tlv(spki, algorithm_end)
    return spki[key_start + 1 :]


def _tlv(der: bytes, at: int) -> tuple[int, int]:
    """(end of the element at `at`, start of its contents)."""
    length = der[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    return start + length, start


def hash_data(
    certificate: x509.Certificate, issuer: x509.Certificate, algorithm: str = "SHA256"
) -> dict[str, str]:
    """The CertificateHashDataType fields that name `certificate` on a station."""
    digest = HASHES[algorithm]
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": digest(certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": digest(_key_bits(issuer)).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
    }
