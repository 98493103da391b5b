"""A 2.0.1 station's side of ISO 15118 Plug & Charge: the EV's contract, and the messages the
station sends for it (2.0.1 M06 Get15118EVCertificate / GetCertificateStatus, C07 Authorize
with iso15118CertificateHashData). Payload builders are pure; `authorize_by_contract` sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.station.station import Station

SCHEMA_VERSION = "urn:iso:15118:2:2013:MsgDef"  # ISO 15118-2 message definitions


@dataclass(frozen=True, slots=True)
class CertificateHash:
    """OCSPRequestDataType: one certificate of the contract chain, by issuer hashes and serial."""

    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    hash_algorithm: str = "SHA256"
    responder_url: str = "http://ocsp.example.invalid"

    def payload(self) -> dict[str, str]:
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
            "responderURL": self.responder_url,
        }


@dataclass(frozen=True, slots=True)
class Contract:
    """An EV's Plug & Charge contract: its eMAID and its certificate chain (leaf first)."""

    emaid: str
    hashes: tuple[CertificateHash, ...]
    # The EV's CertificateInstallationReq (base64 EXI): when set, the EV first asks for its
    # contract certificate (Get15118EVCertificate), as a car without one does.
    exi_request: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.hashes) <= 4:  # AuthorizeRequest: 1..4 hash data entries
            raise ValueError("a contract names 1 to 4 certificates")


def ev_certificate_request(contract: Contract) -> dict[str, Any]:
    return {
        "iso15118SchemaVersion": SCHEMA_VERSION,
        "action": "Install",
        "exiRequest": contract.exi_request or "",
    }


def certificate_status_request(certificate: CertificateHash) -> dict[str, Any]:
    return {"ocspRequestData": certificate.payload()}


def authorize_request(contract: Contract) -> dict[str, Any]:
    return {
        "idToken": {"idToken": contract.emaid, "type": "eMAID"},
        "iso15118CertificateHashData": [h.payload() for h in contract.hashes],
    }


async def authorize_by_contract(station: Station, contract: Contract) -> str:
    """The Plug & Charge start: fetch the contract certificate when the EV has none, check the
    leaf's OCSP status through the CSMS, then Authorize with the chain's hash data. The answer's
    idTokenInfo decides; offline, the station's usual offline rules for the eMAID do."""
    if not station.online or station.version == "1.6":  # 1.6 has no Plug & Charge messages
        return await station.authorize(contract.emaid, "eMAID")
    if contract.exi_request is not None:
        await station.call("Get15118EVCertificate", ev_certificate_request(contract))
    await station.call("GetCertificateStatus", certificate_status_request(contract.hashes[0]))
    answer = await station.call("Authorize", authorize_request(contract))
    if answer is None:
        return await station.authorize(contract.emaid, "eMAID")
    entry = station.dialect.auth_entry(answer)
    station.remember(contract.emaid, entry)
    return entry.status
