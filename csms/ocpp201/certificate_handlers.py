"""SignCertificateRequest from a 2.0.1 station (A02, A03)."""

from __future__ import annotations

from typing import Any

from csms.ocpp_shared import SharedHandlers
from csms.rpc.payloads import drop_none
from csms.services.certificates import SignAnswer

Payload = dict[str, Any]


async def sign_certificate(self: SharedHandlers, p: Payload) -> Payload:
    """Accepted when the CSR passes the checks (the chain follows in CertificateSigned);
    Rejected with a statusInfo that says why."""
    service = self.s.services.certificates
    if service is None:
        answer = SignAnswer(False, "NoCA", "no certificate authority is configured")
    else:
        answer = service.sign_request(self.id, self.s.version, p["csr"], p.get("certificateType"))
    if answer.accepted:
        return {"status": "Accepted"}
    info = drop_none(
        {"reasonCode": answer.reason_code, "additionalInfo": (answer.text or "")[:512] or None}
    )
    return {"status": "Rejected", **({"statusInfo": info} if "reasonCode" in info else {})}
