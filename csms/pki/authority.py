"""The certificate authority the CSMS hands station CSRs to: one small interface.

The built-in CA (`csms.pki.local_ca`) implements it with a key in the data directory. An
external CA (a company PKI, an EST service, a hardware module) is plugged in by writing a class
with the same members and handing it to `CertificateService` instead of `LocalCa` (see
`csms.services.certificates.build_certificates`); nothing else in the CSMS knows which one
runs. No external adapter ships yet. Revocation state lives in the shared database, so every
node refuses a revoked certificate at the handshake whatever the CA; `revoke` tells the CA,
and `crl` turns the database's list into the CRL the CA signs (or publishes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography import x509


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revoked certificate, as a CRL lists it."""

    serial: int
    revoked_at: datetime


class CertificateAuthority(Protocol):
    """What the CSMS needs from a CA."""

    @property
    def organization(self) -> str:
        """The CPO name a station's CSR must carry as organizationName (O)."""
        ...

    @property
    def certificate(self) -> x509.Certificate:
        """The CA certificate stations and the TLS server trust (the chain's anchor)."""
        ...

    async def sign(
        self, csr: x509.CertificateSigningRequest, station_id: str, now: datetime
    ) -> list[x509.Certificate]:
        """Issue a client certificate for the (already checked) CSR: the chain, leaf first,
        with every sub-CA the station needs (2.0.1 CertificateSignedRequest)."""
        ...

    async def revoke(self, serial: int, at: datetime) -> None:
        """Tell the CA a certificate it issued is revoked (the CSMS has recorded it already;
        an external CA publishing its own CRL needs to know)."""
        ...

    async def crl(
        self, revoked: Sequence[Revocation], now: datetime
    ) -> x509.CertificateRevocationList:
        """A CRL listing `revoked`, signed by the CA, valid from `now`."""
        ...
