"""The test certificate provider: deterministic Plug & Charge answers from a fixture, no network.

The fixture names the EV certificate requests it can answer (exiRequest -> exiResponse) and
the certificates it knows (by issuer hashes and serial) with their status. Anything else is
refused: an unknown EXI request Failed, an unknown certificate Failed for GetCertificateStatus
and CertChainError in an Authorize (the CSMS cannot chain it to a root it knows). With
`"fail": true` every call raises, as an unreachable provider would.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from csms.errors import ConfigError
from csms.iso15118.model import (
    ContractStatus,
    EvCertificateRequest,
    OcspRequestData,
    ProviderError,
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Known to the built-in fixture (tests and csms-sim scenarios use these).
ISSUER_NAME_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
ISSUER_KEY_HASH = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
GOOD_SERIAL, REVOKED_SERIAL = "5A3E0001", "5A3E0002"
EXI_REQUEST = _b64("test CertificateInstallationReq")
BUILTIN: dict[str, Any] = {
    "fail": False,
    "ev_certificates": {EXI_REQUEST: _b64("test CertificateInstallationRes")},
    "certificates": [
        {
            "issuer_name_hash": ISSUER_NAME_HASH,
            "issuer_key_hash": ISSUER_KEY_HASH,
            "serial_number": GOOD_SERIAL,
            "status": "Accepted",
            "ocsp_result": _b64("test OCSPResponse good"),
        },
        {
            "issuer_name_hash": ISSUER_NAME_HASH,
            "issuer_key_hash": ISSUER_KEY_HASH,
            "serial_number": REVOKED_SERIAL,
            "status": "CertificateRevoked",
            "ocsp_result": _b64("test OCSPResponse revoked"),
        },
    ],
}


def _key(issuer_name_hash: str, issuer_key_hash: str, serial: str) -> tuple[str, str, str]:
    return issuer_name_hash.lower(), issuer_key_hash.lower(), serial.lower()


class FixtureProvider:
    """Answers from `fixture` (see BUILTIN for its shape)."""

    def __init__(self, fixture: Mapping[str, Any] = BUILTIN, *, fail: bool = False) -> None:
        self.fail = fail or bool(fixture.get("fail"))
        self._exi: dict[str, str] = dict(fixture.get("ev_certificates") or {})
        self._known: dict[tuple[str, str, str], Mapping[str, Any]] = {
            _key(c["issuer_name_hash"], c["issuer_key_hash"], c["serial_number"]): c
            for c in fixture.get("certificates") or ()
        }

    @classmethod
    def from_file(cls, path: Path) -> FixtureProvider:
        try:
            fixture = json.loads(path.read_text(encoding="utf-8"))
            return cls(fixture)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"cannot load the ISO 15118 test fixture {path}: {exc}") from None

    def _check(self) -> None:
        if self.fail:
            raise ProviderError("the test provider was told to fail")

    def _certificate(self, ocsp: OcspRequestData) -> Mapping[str, Any] | None:
        return self._known.get(
            _key(ocsp.issuer_name_hash, ocsp.issuer_key_hash, ocsp.serial_number)
        )

    async def get_15118_ev_certificate(self, request: EvCertificateRequest) -> object:
        self._check()
        response = self._exi.get(request.exi_request)
        if response is None:
            return {"status": "Failed"}
        return {"status": "Accepted", "exi_response": response}

    async def certificate_status(self, ocsp: OcspRequestData) -> object:
        self._check()
        known = self._certificate(ocsp)
        if known is None:
            return {"status": "Failed"}
        return {"status": "Accepted", "ocsp_result": known.get("ocsp_result")}

    async def authorize_hashes(self, hashes: Sequence[OcspRequestData]) -> object:
        self._check()
        statuses = []
        for ocsp in hashes:
            known = self._certificate(ocsp)
            statuses.append(
                ContractStatus.CERT_CHAIN_ERROR.value if known is None else known["status"]
            )
        return statuses
