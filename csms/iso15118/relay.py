"""Relays a station's Plug & Charge requests to the configured provider (2.0.1 M06, C07).

Whatever the provider does (raise, hang, answer garbage), the station gets an answer the spec
allows: Get15118EVCertificate and GetCertificateStatus Failed, an Authorize with hash data
certificateStatus NoCertificateAvailable; the failure is logged, never raised into the socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from csms.iso15118.model import (
    CertificateProvider,
    CertificateStatusAnswer,
    ContractStatus,
    EvCertificateAnswer,
    EvCertificateRequest,
    OcspRequestData,
    ProviderError,
    certificate_status_answer,
    contract_status,
    ev_certificate_answer,
    hash_statuses,
)

log = logging.getLogger(__name__)
# Seconds the provider may take: well inside the station's own wait for the CALLRESULT
# (commonly 30 s or more), which must not expire while the CSMS waits for the provider.
PROVIDER_TIMEOUT = 10.0


class Iso15118Relay:
    def __init__(
        self, provider: CertificateProvider | None, *, timeout: float | None = None
    ) -> None:
        self._provider = provider
        self._timeout = PROVIDER_TIMEOUT if timeout is None else timeout

    async def ev_certificate(
        self, station_id: str, request: EvCertificateRequest
    ) -> EvCertificateAnswer:
        """M06/M01-M02: the EV's certificate installation or update, via the provider."""
        try:
            if self._provider is None:
                raise ProviderError("no ISO 15118 certificate provider is configured")
            async with asyncio.timeout(self._timeout):
                answer = await self._provider.get_15118_ev_certificate(request)
            return ev_certificate_answer(answer)
        except Exception as exc:  # any provider failure: a Failed answer
            _failed("Get15118EVCertificate", station_id, exc)
            return EvCertificateAnswer(False, "")

    async def certificate_status(
        self, station_id: str, ocsp: OcspRequestData
    ) -> CertificateStatusAnswer:
        """M06: the OCSP status of a V2G certificate, via the provider."""
        try:
            if self._provider is None:
                raise ProviderError("no ISO 15118 certificate provider is configured")
            async with asyncio.timeout(self._timeout):
                answer = await self._provider.certificate_status(ocsp)
            return certificate_status_answer(answer)
        except Exception as exc:  # any provider failure: a Failed answer
            _failed("GetCertificateStatus", station_id, exc)
            return CertificateStatusAnswer(False, None)

    async def contract_status(
        self, station_id: str, hashes: Sequence[OcspRequestData]
    ) -> ContractStatus:
        """C07: the status of the contract certificate chain an Authorize names by hashes."""
        try:
            if self._provider is None:
                raise ProviderError("no ISO 15118 certificate provider is configured")
            async with asyncio.timeout(self._timeout):
                answer = await self._provider.authorize_hashes(list(hashes))
            return contract_status(hash_statuses(answer, len(hashes)))
        except Exception as exc:  # any provider failure: no certificate
            _failed("Authorize", station_id, exc)
            return ContractStatus.NO_CERTIFICATE_AVAILABLE


def _failed(action: str, station_id: str, exc: Exception) -> None:
    reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
    log.warning("%s of %s: the certificate provider failed (%s)", action, station_id, reason)
