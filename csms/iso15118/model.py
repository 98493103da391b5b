"""What the CSMS asks a Plug & Charge certificate provider and what it accepts back (pure).

A provider is outside the CSMS's trust: every answer is checked against the shapes the
2.0.1 schemas allow before a station sees it, and an answer that does not fit is a failure
(ProviderError), never forwarded.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

# Get15118EVCertificateResponse.exiResponse and GetCertificateStatusResponse.ocspResult
MAX_EXI_RESPONSE, MAX_OCSP_RESULT = 7500, 5500
MAX_HASHES = 4  # AuthorizeRequest.iso15118CertificateHashData: 1..4


class ProviderError(Exception):
    """The provider failed, timed out or answered something the CSMS cannot pass on."""


class CertificateAction(StrEnum):
    INSTALL = "Install"
    UPDATE = "Update"


class ContractStatus(StrEnum):
    """AuthorizeCertificateStatusEnumType (2.0.1): the contract certificate's status."""

    ACCEPTED = "Accepted"
    SIGNATURE_ERROR = "SignatureError"
    CERTIFICATE_EXPIRED = "CertificateExpired"
    CERTIFICATE_REVOKED = "CertificateRevoked"
    NO_CERTIFICATE_AVAILABLE = "NoCertificateAvailable"
    CERT_CHAIN_ERROR = "CertChainError"
    CONTRACT_CANCELLED = "ContractCancelled"


@dataclass(frozen=True, slots=True)
class EvCertificateRequest:
    """Get15118EVCertificateRequest: the EV's CertificateInstallationReq / UpdateReq."""

    schema_version: str
    action: CertificateAction
    exi_request: str  # base64 EXI, passed through untouched


@dataclass(frozen=True, slots=True)
class EvCertificateAnswer:
    accepted: bool
    exi_response: str  # base64 EXI for the EV ("" when not accepted)


@dataclass(frozen=True, slots=True)
class OcspRequestData:
    """OCSPRequestDataType: which certificate, by its issuer's hashes and its serial."""

    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    responder_url: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateStatusAnswer:
    accepted: bool
    ocsp_result: str | None  # base64 DER OCSPResponse (RFC 6960), only when accepted


class CertificateProvider(Protocol):
    """A source of Plug & Charge answers (a contract certificate pool, an OCSP client, ...).

    Answers are plain values the CSMS checks (see the `*_answer` functions below):
    `get_15118_ev_certificate` -> {"status": "Accepted"|"Failed", "exi_response": str};
    `certificate_status` -> {"status": "Accepted"|"Failed", "ocsp_result": str | None};
    `authorize_hashes` -> one ContractStatus value per hash, in order.
    """

    async def get_15118_ev_certificate(self, request: EvCertificateRequest) -> object: ...

    async def certificate_status(self, ocsp: OcspRequestData) -> object: ...

    async def authorize_hashes(self, hashes: Sequence[OcspRequestData]) -> object: ...


def _base64(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ProviderError(f"{what} must be a non-empty string of at most {limit} characters")
    try:
        b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProviderError(f"{what} is not base64") from None
    return value


def _status(answer: object) -> tuple[dict[object, object], bool]:
    if not isinstance(answer, dict) or answer.get("status") not in ("Accepted", "Failed"):
        raise ProviderError("the answer must be an object with status Accepted or Failed")
    return answer, answer["status"] == "Accepted"


def ev_certificate_answer(answer: object) -> EvCertificateAnswer:
    """A provider's Get15118EVCertificate answer, checked."""
    fields, accepted = _status(answer)
    if not accepted:
        return EvCertificateAnswer(False, "")
    return EvCertificateAnswer(
        True, _base64(fields.get("exi_response"), MAX_EXI_RESPONSE, "exi_response")
    )


def certificate_status_answer(answer: object) -> CertificateStatusAnswer:
    """A provider's GetCertificateStatus answer, checked."""
    fields, accepted = _status(answer)
    if not accepted:
        return CertificateStatusAnswer(False, None)
    return CertificateStatusAnswer(
        True, _base64(fields.get("ocsp_result"), MAX_OCSP_RESULT, "ocsp_result")
    )


def hash_statuses(answer: object, count: int) -> list[ContractStatus]:
    """A provider's per-certificate statuses for an Authorize, checked: one per hash."""
    if not isinstance(answer, list | tuple) or len(answer) != count:
        raise ProviderError(f"expected a list of {count} certificate statuses")
    try:
        return [ContractStatus(item) for item in answer]
    except ValueError:
        raise ProviderError(f"unknown certificate status in {answer!r:.200}") from None


def contract_status(statuses: Sequence[ContractStatus]) -> ContractStatus:
    """The chain's status: Accepted when every certificate is, else the first that is not
    (AuthorizeResponse.certificateStatus: "if all certificates are valid: return 'Accepted'")."""
    for status in statuses:
        if status is not ContractStatus.ACCEPTED:
            return status
    return ContractStatus.ACCEPTED
