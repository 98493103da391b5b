"""Issued station certificates, their revocations, and the renewal requests sent to stations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.store import audit
from csms.store.database import Pool

_COLUMNS = """serial, station_id, certificate_type, subject, issuer, not_before, not_after,
    issued_at, delivery, delivery_detail, command_id, revoked_at, revoked_by, revocation_reason"""


class CertificateStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def record(
        self,
        *,
        serial: str,
        station_id: str,
        certificate_type: str,
        subject: str,
        issuer: str,
        not_before: datetime,
        not_after: datetime,
        pem: str,
        issued_at: datetime,
    ) -> None:
        """Keep a certificate as soon as it is signed, before it is sent: one the station
        received must be revocable even if the CSMS stopped before hearing its answer."""
        await self._pool.execute(
            """INSERT INTO issued_certificates (serial, station_id, certificate_type, subject,
                   issuer, not_before, not_after, pem, issued_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            serial,
            station_id,
            certificate_type,
            subject,
            issuer,
            not_before,
            not_after,
            pem,
            issued_at,
        )

    async def delivered(
        self, serial: str, outcome: str, detail: str | None, command_id: int | None
    ) -> None:
        """The station's answer to CertificateSigned (or why none came)."""
        await self._pool.execute(
            """UPDATE issued_certificates SET delivery = $2, delivery_detail = $3,
                   command_id = $4 WHERE serial = $1""",
            serial,
            outcome,
            detail,
            command_id,
        )

    async def get(self, serial: str) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS}, pem FROM issued_certificates WHERE serial = $1", serial
        )
        return None if row is None else dict(row)

    async def listing(
        self, station_id: str | None, *, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        """Newest first; one station's, or every station's."""
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM issued_certificates
                WHERE $1::text IS NULL OR station_id = $1
                ORDER BY issued_at DESC, serial LIMIT $2 OFFSET $3""",
            station_id,
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def is_revoked(self, serial: str) -> bool:
        value = await self._pool.fetchval(
            "SELECT revoked_at IS NOT NULL FROM issued_certificates WHERE serial = $1", serial
        )
        return bool(value)

    async def revoked(self) -> list[tuple[str, datetime]]:
        """Every revoked certificate (serial, when), for the CRL."""
        rows = await self._pool.fetch(
            """SELECT serial, revoked_at FROM issued_certificates
               WHERE revoked_at IS NOT NULL ORDER BY revoked_at, serial"""
        )
        return [(r["serial"], r["revoked_at"]) for r in rows]

    async def revoke(
        self, serial: str, *, at: datetime, actor: str, reason: str | None
    ) -> dict[str, Any] | None:
        """Revoke once, audited in the same transaction; the row (None: no such serial).
        Revoking a revoked certificate changes nothing and records nothing."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""UPDATE issued_certificates
                    SET revoked_at = $2, revoked_by = $3, revocation_reason = $4
                    WHERE serial = $1 AND revoked_at IS NULL RETURNING {_COLUMNS}""",
                serial,
                at,
                actor,
                reason,
            )
            if row is None:
                existing = await conn.fetchrow(
                    f"SELECT {_COLUMNS} FROM issued_certificates WHERE serial = $1", serial
                )
                return None if existing is None else dict(existing)
            await audit.record(
                conn,
                at=at,
                actor=actor,
                action="revoke-certificate",
                subject_kind="station",
                subject_id=row["station_id"],
                detail={"serial": serial, "reason": reason},
            )
            return dict(row)

    async def expiring(
        self, before: datetime, asked_before: datetime, node_id: str
    ) -> list[dict[str, Any]]:
        """Stations connected to `node_id` whose newest certificate (one they accepted, not
        revoked) ends before `before` and that were not asked to renew since `asked_before`:
        station_id, serial, not_after. Each node asks its own stations, so none is asked
        twice."""
        rows = await self._pool.fetch(
            """SELECT station_id, serial, not_after FROM (
                   SELECT DISTINCT ON (c.station_id) c.station_id, c.serial, c.not_after
                   FROM issued_certificates c
                   WHERE c.revoked_at IS NULL AND c.delivery = 'Accepted'
                     AND c.certificate_type = 'ChargingStationCertificate'
                   ORDER BY c.station_id, c.not_after DESC
               ) newest
               JOIN stations s ON s.id = newest.station_id AND s.connected AND s.node_id = $3
               WHERE not_after < $1 AND NOT EXISTS (
                   SELECT 1 FROM certificate_renewals r
                   WHERE r.station_id = newest.station_id AND r.requested_at >= $2)
               ORDER BY not_after, station_id""",
            before,
            asked_before,
            node_id,
        )
        return [dict(r) for r in rows]

    async def renewal_requested(self, station_id: str, at: datetime, outcome: str) -> None:
        await self._pool.execute(
            """INSERT INTO certificate_renewals (station_id, requested_at, outcome)
               VALUES ($1, $2, $3)
               ON CONFLICT (station_id) DO UPDATE SET requested_at = EXCLUDED.requested_at,
                   outcome = EXCLUDED.outcome""",
            station_id,
            at,
            outcome,
        )

    async def last_renewal(self, station_id: str) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(
            "SELECT requested_at, outcome FROM certificate_renewals WHERE station_id = $1",
            station_id,
        )
        return None if row is None else dict(row)
