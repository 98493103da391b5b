"""Station certificates the CSMS's CA issued: list, revoke, renew now; the CA and its CRL.

Installing, listing and deleting certificates on a station are commands
(`/stations/{id}/commands/install-certificate` etc., see routes/commands.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response

from csms.api.auth import Principal, context, operator, viewer
from csms.api.certificate_schemas import (
    AuthorityInfo,
    IssuedCertificate,
    IssuedCertificateDetail,
    RenewalAnswer,
    Revoke,
)
from csms.api.context import ApiContext
from csms.api.schemas import MAX_OFFSET
from csms.clock import utcnow
from csms.errors import Conflict, NotFound, StationOffline
from csms.pki.hash_data import hash_data
from csms.services.certificates import CertificateService

router = APIRouter(prefix="/api/v1", tags=["certificates"])
Ctx = Annotated[ApiContext, Depends(context)]
Serial = Annotated[
    str, Path(pattern="^[0-9A-Fa-f]{1,40}$", description="the serial in hex, as listed")
]
NO_CA = "no certificate authority is configured: run `csms ca init`"


def _service(ctx: ApiContext) -> CertificateService:
    if ctx.certificates is None:
        raise NotFound("station certificates are not managed by this CSMS")
    return ctx.certificates


def _normal(serial: str) -> str:
    return format(int(serial, 16), "x")


@router.get("/certificates", response_model=list[IssuedCertificate])
async def issued_certificates(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    station_id: Annotated[str | None, Query(max_length=48)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    """Certificates the CA issued to stations, newest first, with the station's answer to
    CertificateSigned and any revocation."""
    return await _service(ctx).certificates(station_id, limit=limit, offset=offset)


@router.get("/certificates/{serial}", response_model=IssuedCertificateDetail)
async def issued_certificate(
    serial: Serial, ctx: Ctx, _: Annotated[Principal, Depends(viewer)]
) -> dict[str, Any]:
    """One issued certificate with its PEM chain."""
    return await _service(ctx).certificate(_normal(serial))


@router.post(
    "/certificates/{serial}/revoke",
    response_model=IssuedCertificate,
    responses={404: {"description": "no certificate with that serial was issued"}},
)
async def revoke_certificate(
    serial: Serial,
    ctx: Ctx,
    who: Annotated[Principal, Depends(operator)],
    body: Annotated[Revoke | None, Body()] = None,
) -> dict[str, Any]:
    """Revoke a certificate (audited): it goes on the CRL and the profile-3 handshake refuses
    it from now on, on every node. Revoking twice keeps the first revocation."""
    reason = body.reason if body is not None else None
    return await _service(ctx).revoke(_normal(serial), actor=who.name, reason=reason)


@router.post(
    "/stations/{station_id}/certificates/renew",
    response_model=RenewalAnswer,
    responses={
        404: {"description": "unknown station"},
        409: {"description": "station offline, or no CA configured"},
        502: {"description": "station answered with a CALLERROR"},
        504: {"description": "station did not answer in time"},
    },
)
async def renew_certificate(
    station_id: str, ctx: Ctx, who: Annotated[Principal, Depends(operator)]
) -> RenewalAnswer:
    """Ask the station for a new CSR now (A02; 1.6: ExtendedTriggerMessage); the certificate
    follows when its SignCertificate passes the checks."""
    status = await _service(ctx).request_renewal(station_id, who.name)
    if status is None:
        raise StationOffline(f"station {station_id} is not connected")
    return RenewalAnswer(station_id=station_id, status=status)


@router.get("/pki/ca", response_model=AuthorityInfo, responses={409: {"description": NO_CA}})
async def authority(ctx: Ctx, _: Annotated[Principal, Depends(viewer)]) -> AuthorityInfo:
    """The CA that signs station certificates: the organization CSRs must name and its
    certificate (for `--tls-client-ca`, and to verify the chains stations receive)."""
    ca = _service(ctx).ca
    if ca is None:
        raise Conflict(NO_CA)
    cert = ca.certificate
    ocpp = hash_data(cert, cert)
    return AuthorityInfo(
        organization=ca.organization,
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        certificate=cert.public_bytes(serialization.Encoding.PEM).decode(),
        hash_data={
            "hash_algorithm": ocpp["hashAlgorithm"],
            "issuer_name_hash": ocpp["issuerNameHash"],
            "issuer_key_hash": ocpp["issuerKeyHash"],
            "serial_number": ocpp["serialNumber"],
        },
    )


@router.get(
    "/pki/crl",
    response_class=Response,
    responses={
        200: {"content": {"application/x-pem-file": {}, "application/pkix-crl": {}}},
        409: {"description": NO_CA},
    },
)
async def revocation_list(
    ctx: Ctx,
    _: Annotated[Principal, Depends(viewer)],
    format: Literal["pem", "der"] = "pem",
) -> Response:
    """The CRL of every revoked station certificate, signed by the CA and fresh on each call
    (for a TLS terminator in front of the CSMS: nginx `ssl_crl`)."""
    crl = await _service(ctx).crl(utcnow())
    if format == "der":
        return Response(
            crl.public_bytes(serialization.Encoding.DER), media_type="application/pkix-crl"
        )
    return Response(
        crl.public_bytes(serialization.Encoding.PEM), media_type="application/x-pem-file"
    )
