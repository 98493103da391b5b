"""The station certificate lifecycle on the CSMS side (OCPP 2.0.1 A02/A03, M; 1.6 security
whitepaper A02/A03): check and sign CSRs, deliver the chain, ask for renewal before expiry,
revoke, and publish the CRL the profile-3 handshake consults.

SignCertificate is answered first and the chain is sent afterwards from a task this service
owns: a CSMS CALL awaited inside the handler could never get its answer (design guide §4).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from csms import errors
from csms.clock import utcnow
from csms.config import Settings
from csms.domain.version import OcppVersion
from csms.outage import OutageLog
from csms.pki.authority import CertificateAuthority, Revocation
from csms.pki.csr import CsrProblem, check_csr
from csms.pki.local_ca import LocalCa, NoCa
from csms.store.certificates import CertificateStore
from csms.store.database import Pool

log = logging.getLogger(__name__)
# A CA with less life left than this signs nothing: a certificate valid for minutes is useless.
MIN_CA_LIFE = timedelta(hours=1)

STATION_CERTIFICATE = "ChargingStationCertificate"
REQUESTER = "csms-pki"  # who the command log says sent CertificateSigned and renewal triggers
SEND_TIMEOUT = 60.0
RENEWAL_SWEEP = 3600.0  # seconds between renewal sweeps; each station is asked once a day
ASK_AGAIN_AFTER = timedelta(days=1)
RENEWAL_CONCURRENCY = 32  # stations asked at once by one sweep


class Sender(Protocol):
    """The command service, as far as certificates need it."""

    async def send(
        self,
        station_id: str,
        name: str,
        params: dict[str, Any],
        *,
        requested_by: str,
        timeout: float,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class SignAnswer:
    """The SignCertificate answer: accepted, or why not (reasonCode <= 20 characters)."""

    accepted: bool
    reason_code: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    station_id: str
    csr: x509.CertificateSigningRequest
    certificate_type: str | None  # as the station asked (2.0.1), None on 1.6


def serial_text(serial: int) -> str:
    """How serials are stored and shown: lowercase hex without leading zeros."""
    return format(serial, "x")


class CertificateService:
    def __init__(
        self,
        store: CertificateStore,
        ca: CertificateAuthority | None,
        *,
        node_id: str,
        renew_days: int,
        outage: OutageLog | None = None,
    ) -> None:
        self._store = store
        self._sender: Sender | None = None
        self.ca = ca  # None: no CA configured; CSRs are refused, revocation still works
        self._node_id = node_id
        self._renew_before = timedelta(days=renew_days)
        self._outage = outage
        self._jobs: asyncio.Queue[_Job] = asyncio.Queue()

    def attach(self, commands: Sender) -> None:
        """Wire the command service in: it is made after the services the gateway gets."""
        self._sender = commands

    @property
    def _commands(self) -> Sender:
        if self._sender is None:
            raise errors.ConfigError("the certificate service has no command service attached")
        return self._sender

    # --- A02/A03: the station's CSR ----------------------------------------------------------

    def sign_request(
        self, station_id: str, version: OcppVersion, csr_pem: str, certificate_type: str | None
    ) -> SignAnswer:
        """Decide SignCertificate (A02/A03: Accepted when the CSMS can process it)
        and queue the signing; the chain follows in CertificateSigned."""
        if self.ca is None:
            return SignAnswer(False, "NoCA", "no certificate authority is configured")
        if self.ca.certificate.not_valid_after_utc <= utcnow() + MIN_CA_LIFE:
            # Accepted promises a CertificateSigned; an expired CA cannot issue one (and a
            # certificate it signed would be expired or about to be)
            log.error("SignCertificate from %s refused: the CA certificate has expired", station_id)
            return SignAnswer(False, "CAExpired", "the CSMS's certificate authority has expired")
        if certificate_type not in (None, STATION_CERTIFICATE):
            # ISO 15118 certificates come from the V2G PKI, which this CSMS does not hold
            return SignAnswer(False, "UnsupportedType", f"cannot sign a {certificate_type}")
        try:
            csr = check_csr(csr_pem, station_id=station_id, organization=self.ca.organization)
        except CsrProblem as problem:
            log.info("%s: SignCertificate rejected: %s", station_id, problem)
            return SignAnswer(False, problem.reason_code, problem.text)
        wanted = certificate_type if version is OcppVersion.V201 else None
        self._jobs.put_nowait(_Job(station_id, csr, wanted))
        return SignAnswer(True)

    async def run(self) -> None:
        """Sign queued CSRs and sweep for renewals until cancelled; each signing runs in a
        task of this loop's group, so one slow station holds up no other."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._sweep_forever())
            while True:
                job = await self._jobs.get()
                group.create_task(self._issue_logged(job))

    async def _issue_logged(self, job: _Job) -> None:
        try:
            await self.issue(job.station_id, job.csr, job.certificate_type)
        except Exception as exc:  # one failed signing must not end the loop of all others
            if self._outage is None or self._outage.absorb(exc, "background") is None:
                log.exception("signing a certificate for %s failed", job.station_id)

    async def issue(
        self,
        station_id: str,
        csr: x509.CertificateSigningRequest,
        certificate_type: str | None,
    ) -> str:
        """Sign, record, send CertificateSigned, record the answer; the serial."""
        assert self.ca is not None  # sign_request queued it only with a CA
        now = utcnow()
        chain = await self.ca.sign(csr, station_id, now)
        leaf = chain[0]
        serial = serial_text(leaf.serial_number)
        pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
        await self._store.record(
            serial=serial,
            station_id=station_id,
            certificate_type=STATION_CERTIFICATE,
            subject=leaf.subject.rfc4514_string(),
            issuer=leaf.issuer.rfc4514_string(),
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            pem=pem,
            issued_at=now,
        )
        log.info("%s: issued certificate %s until %s", station_id, serial, leaf.not_valid_after_utc)
        params = {"chain": pem, "certificate_type": certificate_type}
        try:
            result = await self._commands.send(
                station_id,
                "certificate-signed",
                params,
                requested_by=REQUESTER,
                timeout=SEND_TIMEOUT,
            )
        except (errors.CallFailed, errors.Conflict, errors.NotFound) as failed:
            await self._store.delivered(
                serial, "failed", str(failed) or failed.__class__.__name__, None
            )
            return serial
        status = str(result.response.get("status"))
        detail = (result.response.get("statusInfo") or {}).get("reasonCode")
        await self._store.delivered(
            serial,
            status if status in ("Accepted", "Rejected") else "failed",
            detail,
            result.command_id,
        )
        return serial

    # --- A02: renewal before expiry ----------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(RENEWAL_SWEEP)
            try:
                await self.renew_due(utcnow())
            except Exception as exc:
                if self._outage is None or self._outage.absorb(exc, "background") is None:
                    log.exception("certificate renewal sweep failed")

    async def renew_due(self, now: datetime) -> list[str]:
        """Ask this node's stations whose certificate ends within the renewal window to
        renew (A02: TriggerMessage SignChargingStationCertificate; 1.6 ExtendedTriggerMessage
        SignChargePointCertificate), each at most once a day; the stations asked."""
        if self.ca is None:
            return []  # nothing was issued here that could need renewing
        due = await self._store.expiring(
            now + self._renew_before, now - ASK_AGAIN_AFTER, self._node_id
        )
        slots = asyncio.Semaphore(RENEWAL_CONCURRENCY)  # a silent station holds one slot

        async def ask(station_id: str) -> str | None:
            async with slots:
                try:
                    return await self.request_renewal(station_id, REQUESTER, at=now)
                except errors.CsmsError as refused:  # e.g. blocked: the CSMS sends it nothing
                    await self._store.renewal_requested(station_id, now, f"refused: {refused}")
                    return None

        outcomes = await asyncio.gather(*(ask(row["station_id"]) for row in due))
        return [row["station_id"] for row, outcome in zip(due, outcomes, strict=True) if outcome]

    async def request_renewal(
        self, station_id: str, requested_by: str, *, at: datetime | None = None
    ) -> str | None:
        """Trigger the station to send a new CSR; its answer (None when it is offline)."""
        if self.ca is None:
            raise errors.Conflict("no certificate authority is configured: run `csms ca init`")
        at = at or utcnow()
        try:
            result = await self._commands.send(
                station_id,
                "renew-certificate",
                {},
                requested_by=requested_by,
                timeout=SEND_TIMEOUT,
            )
        except errors.StationOffline:
            return None
        except errors.CallFailed as failed:
            outcome = f"failed: {failed}"
        else:
            outcome = str(result.response.get("status"))
        await self._store.renewal_requested(station_id, at, outcome)
        return outcome

    # --- revocation and the CRL --------------------------------------------------------------

    async def revoke(self, serial: str, *, actor: str, reason: str | None) -> dict[str, Any]:
        """Revoke an issued certificate (audited); the profile-3 handshake refuses it from
        now on, on every node."""
        at = utcnow()
        row = await self._store.revoke(serial, at=at, actor=actor, reason=reason)
        if row is None:
            raise errors.NotFound(f"no certificate with serial {serial} was issued")
        if self.ca is not None and row["revoked_at"] == at:  # this call revoked it
            await self.ca.revoke(int(serial, 16), at)
        return row

    async def is_revoked(self, serial: int) -> bool:
        return await self._store.is_revoked(serial_text(serial))

    async def crl(self, now: datetime) -> x509.CertificateRevocationList:
        if self.ca is None:
            raise errors.Conflict("no certificate authority is configured: run `csms ca init`")
        revoked = [Revocation(int(s, 16), at) for s, at in await self._store.revoked()]
        return await self.ca.crl(revoked, now)

    async def certificates(
        self, station_id: str | None, *, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        return await self._store.listing(station_id, limit=limit, offset=offset)

    async def certificate(self, serial: str) -> dict[str, Any]:
        row = await self._store.get(serial)
        if row is None:
            raise errors.NotFound(f"no certificate with serial {serial} was issued")
        return row


def build_certificates(
    pool: Pool, settings: Settings, outage: OutageLog | None = None
) -> CertificateService:
    """The certificate service with the built-in CA of the settings' folder, if one was made
    there (without one, CSRs are answered Rejected and the CA routes say how to make one)."""
    try:
        ca: CertificateAuthority | None = LocalCa.load(
            settings.ca_folder, valid_days=settings.cert_days
        )
    except NoCa:
        log.info(
            "no certificate authority in %s: station CSRs will be rejected", settings.ca_folder
        )
        ca = None
    return CertificateService(
        CertificateStore(pool),
        ca,
        node_id=settings.node_id,
        renew_days=settings.cert_renew_days,
        outage=outage,
    )
