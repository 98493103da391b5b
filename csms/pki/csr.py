"""The checks a station's certificate signing request must pass before the CA sees it. Pure.

OCPP 2.0.1 A02/A03 and the 1.6 security whitepaper (A02/A03): the station puts its identity
in the commonName (CN) and the CPO name in the organizationName (O) of the CSR subject (2.0.1
Part 2 A00, certificate properties; 1.6 whitepaper: the `CpoName` key). Key strength follows
the TLS requirements of both documents: RSA of at least 2048 bits, or EC on P-256 or P-384.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

MIN_RSA_BITS = 2048
EC_CURVES = ("secp256r1", "secp384r1")
_STRONG = f"RSA >= {MIN_RSA_BITS} bits or EC P-256/P-384 is required"


class CsrProblem(Exception):
    """Why a CSR is refused: a short OCPP reasonCode (at most 20 characters) and a sentence."""

    def __init__(self, reason_code: str, text: str) -> None:
        super().__init__(text)
        self.reason_code = reason_code
        self.text = text


def _one(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1:
        return None
    value = values[0].value
    return value if isinstance(value, str) else None


def check_csr(pem: str, *, station_id: str, organization: str) -> x509.CertificateSigningRequest:
    """The parsed CSR when it may be signed for `station_id`; else raise CsrProblem."""
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except (ValueError, UnicodeEncodeError):
        raise CsrProblem("InvalidCSR", "the csr is not a PEM-encoded PKCS#10 request") from None
    try:
        valid = csr.is_signature_valid
        key = csr.public_key()
    except UnsupportedAlgorithm:  # e.g. an EC curve such as brainpoolP160r1 or sect163k1
        raise CsrProblem(
            "WeakKey", f"the CSR's key algorithm or curve is not supported; {_STRONG}"
        ) from None
    except (ValueError, InvalidSignature, NotImplementedError):
        valid = False
    if not valid:
        raise CsrProblem("InvalidSignature", "the CSR's signature does not verify")
    try:  # the subject is decoded on first read: an attribute may not decode (bad UTF-8)
        subject = csr.subject
    except ValueError:
        raise CsrProblem("InvalidCSR", "the CSR's subject cannot be decoded") from None
    common_name = _one(subject, NameOID.COMMON_NAME)
    if common_name != station_id:
        raise CsrProblem(
            "InvalidCommonName", f"the CSR's commonName is {common_name!r}, not {station_id!r}"
        )
    org = _one(subject, NameOID.ORGANIZATION_NAME)
    if org != organization:
        raise CsrProblem(
            "InvalidOrganization", f"the CSR's organizationName is {org!r}, not {organization!r}"
        )
    key_problem = _key_problem(key)
    if key_problem is not None:
        raise CsrProblem("WeakKey", key_problem)
    return csr


def _key_problem(key: object) -> str | None:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return f"an RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are required"
        return None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in EC_CURVES:
            return f"an EC key on {key.curve.name}; P-256 or P-384 is required"
        return None
    return f"a {type(key).__name__} key; RSA >= {MIN_RSA_BITS} bits or EC P-256/P-384 is required"
