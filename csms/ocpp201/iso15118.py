"""Handlers for the 2.0.1 Plug & Charge messages (M06 Get15118EVCertificate and
GetCertificateStatus; C07 Authorize with iso15118CertificateHashData): map the payload, ask
the ISO 15118 relay, map its answer back. The relay never raises; without one configured,
every request gets the spec's failure answer."""

from __future__ import annotations

from typing import Any

from csms.domain.token import AuthStatus
from csms.iso15118.model import (
    CertificateAction,
    ContractStatus,
    EvCertificateRequest,
    OcspRequestData,
)
from csms.iso15118.relay import Iso15118Relay
from csms.ocpp_shared import SharedHandlers
from csms.services.session import Method

Payload = dict[str, Any]
_NO_RELAY = Iso15118Relay(None)  # answers Failed / NoCertificateAvailable


def _relay(h: SharedHandlers) -> Iso15118Relay:
    return h.s.services.iso15118 or _NO_RELAY


def ocsp_data(p: Payload) -> OcspRequestData:
    """OCSPRequestDataType as a domain value (the schema has checked the fields)."""
    return OcspRequestData(
        hash_algorithm=p["hashAlgorithm"],
        issuer_name_hash=p["issuerNameHash"],
        issuer_key_hash=p["issuerKeyHash"],
        serial_number=p["serialNumber"],
        responder_url=p.get("responderURL"),
    )


async def get_15118_ev_certificate(h: SharedHandlers, p: Payload) -> Payload:
    """M06 (M01/M02 on the EV side): relay the EV's EXI request; Failed unless the provider
    produced a valid EXI response."""
    request = EvCertificateRequest(
        schema_version=p["iso15118SchemaVersion"],
        action=CertificateAction(p["action"]),
        exi_request=p["exiRequest"],
    )
    answer = await _relay(h).ev_certificate(h.id, request)
    # exiResponse is required even when Failed; an empty one carries nothing for the EV.
    return {
        "status": "Accepted" if answer.accepted else "Failed",
        "exiResponse": answer.exi_response,
    }


async def get_certificate_status(h: SharedHandlers, p: Payload) -> Payload:
    """M06: the OCSP status of a certificate, via the provider; ocspResult only if Accepted."""
    answer = await _relay(h).certificate_status(h.id, ocsp_data(p["ocspRequestData"]))
    if not answer.accepted:
        return {"status": "Failed"}
    return {"status": "Accepted", "ocspResult": answer.ocsp_result}


def with_certificate_status(authorize: Method) -> Method:
    """Authorize as `authorize` answers it, plus C07's certificateStatus when the station sends
    iso15118CertificateHashData. A contract certificate that is not Accepted refuses the
    eMAID whatever the token store says (idTokenInfo Invalid): the certificate is what
    authenticates it."""

    async def handle(self: SharedHandlers, p: Payload) -> Payload:
        answer = await authorize(self, p)
        hashes = p.get("iso15118CertificateHashData")
        if not hashes:
            return answer
        status = await _relay(self).contract_status(self.id, [ocsp_data(d) for d in hashes])
        answer["certificateStatus"] = status.value
        info = answer["idTokenInfo"]
        if status is not ContractStatus.ACCEPTED and info["status"] == AuthStatus.ACCEPTED:
            answer["idTokenInfo"] = {**info, "status": AuthStatus.INVALID.value}
        return answer

    return handle
