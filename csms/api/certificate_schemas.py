"""Bodies of the certificate commands and the answers of the certificate routes.

Certificate types are version-neutral (`csms-root`, `manufacturer-root`, and the 2.0.1-only
`v2g-root`, `mo-root`, `v2g-chain`); csms.ocpp16/ocpp201.certificate_commands map them and
refuse what a version lacks. Limits follow the schemas (5500-character certificates, 128-
character hashes, 40-character serials), so nothing the station would refuse is sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from cryptography import x509
from pydantic import BaseModel, Field, field_validator

from csms.api.schemas import Strict

InstallType = Literal["csms-root", "manufacturer-root", "v2g-root", "mo-root"]
ListedType = Literal["csms-root", "manufacturer-root", "v2g-root", "mo-root", "v2g-chain"]
HEX = r"^[0-9A-Fa-f]+$"


class InstallCertificate(Strict):
    """M05 / 1.6 InstallCertificate: a root certificate the station is to trust."""

    certificate_type: InstallType
    certificate: str = Field(min_length=1, max_length=5500, description="PEM, one certificate")

    @field_validator("certificate")
    @classmethod
    def _is_certificate(cls, value: str) -> str:
        try:
            cert = x509.load_pem_x509_certificate(value.encode())
        except (ValueError, UnicodeEncodeError):
            raise ValueError("not a PEM-encoded X.509 certificate") from None
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        except (x509.DuplicateExtension, x509.UnsupportedGeneralNameType, ValueError) as exc:
            # extensions are decoded on first read: one twice, or a name cryptography cannot
            # represent (an x400Address), is refused here, not by a 500
            raise ValueError(f"the certificate's extensions cannot be read: {exc}") from None
        if not is_ca:
            raise ValueError("a root certificate must be a CA certificate (basicConstraints CA)")
        return value


class GetInstalledCertificateIds(Strict):
    """M03 / 1.6 GetInstalledCertificateIds: 1.6 asks about exactly one type; 2.0.1 about
    the ones listed, or every type when none is."""

    certificate_types: list[ListedType] = Field(default_factory=list, max_length=5)


class DeleteCertificate(Strict):
    """M04 / 1.6 DeleteCertificate: the certificate as GetInstalledCertificateIds named it."""

    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"]
    issuer_name_hash: str = Field(min_length=1, max_length=128, pattern=HEX)
    issuer_key_hash: str = Field(min_length=1, max_length=128, pattern=HEX)
    serial_number: str = Field(min_length=1, max_length=40, pattern=HEX)


class RenewCertificate(Strict):
    """A02: ask the station for a new CSR now (the renewal sweep does it before expiry)."""


CERTIFICATE_COMMAND_MODELS: dict[str, type[Strict]] = {
    "install-certificate": InstallCertificate,
    "get-installed-certificate-ids": GetInstalledCertificateIds,
    "delete-certificate": DeleteCertificate,
    "renew-certificate": RenewCertificate,
}


class IssuedCertificate(BaseModel):
    """A certificate the CSMS's CA issued to a station."""

    serial: str = Field(description="lowercase hex")
    station_id: str
    certificate_type: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    delivery: Literal["pending", "Accepted", "Rejected", "failed"] = Field(
        description="the station's answer to CertificateSigned"
    )
    delivery_detail: str | None
    command_id: int | None
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_reason: str | None


class IssuedCertificateDetail(IssuedCertificate):
    pem: str = Field(description="the chain as sent, leaf first")


class Revoke(Strict):
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class RenewalAnswer(BaseModel):
    station_id: str
    status: str = Field(description="the station's answer to the trigger")


class AuthorityInfo(BaseModel):
    """The built-in CA: what stations must put in their CSR, and the certificate to trust."""

    organization: str
    subject: str
    not_after: datetime
    certificate: str = Field(description="PEM; install it as the stations' trust anchor")
    hash_data: dict[str, str] = Field(
        description="its CertificateHashData (SHA256) as the delete-certificate body"
    )
