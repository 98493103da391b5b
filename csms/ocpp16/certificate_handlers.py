"""SignCertificate from a 1.6 charge point (security whitepaper A02/A03)."""

from __future__ import annotations

from typing import Any

from csms.ocpp_shared import SharedHandlers
from csms.services.certificates import SignAnswer

Payload = dict[str, Any]


async def sign_certificate(self: SharedHandlers, p: Payload) -> Payload:
    """Accepted when the CSR passes the checks; the chain follows in CertificateSigned."""
    service = self.s.services.certificates
    if service is None:
        answer = SignAnswer(False)
    else:
        answer = service.sign_request(self.id, self.s.version, p["csr"], None)
    return {"status": "Accepted" if answer.accepted else "Rejected"}
