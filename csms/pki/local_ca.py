"""The built-in certificate authority: a CA key and certificate in a folder of the data directory.

`csms ca init` makes them once (the key file mode 0600, never logged or shown); every node of
a deployment needs a copy of the same folder, as it needs the same secret key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from csms.errors import ConfigError
from csms.pki.authority import Revocation

KEY_FILE = "ca.key"
CERT_FILE = "ca.pem"
# Stations and the CSMS may disagree about the time by a little: a certificate valid from
# "now" by the CSMS clock must not be refused as not yet valid by a station a minute behind.
BACKDATE = timedelta(minutes=5)
CRL_LIFETIME = timedelta(days=7)


class NoCa(ConfigError):
    """The CA folder holds no CA (`csms ca init` was never run there)."""


def _serial() -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 random bits are unique in practice
    return secrets.randbits(159) | 1


def init_ca(
    folder: Path, *, organization: str, common_name: str, days: int, now: datetime
) -> x509.Certificate:
    """Create the CA key (EC P-384) and its self-signed certificate in `folder`; refuses to
    replace an existing CA (stations trust it; replacing it strands them)."""
    if not organization.strip() or not common_name.strip():
        raise ConfigError("the CA needs an organization (the CPO name) and a common name")
    if days < 1:
        raise ConfigError("the CA must be valid for at least one day")
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if key_path.exists() or cert_path.exists():
        raise ConfigError(f"{folder} already holds a CA; move it away to make a new one")
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA384())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert


@dataclass(frozen=True, slots=True)
class LocalCa:
    """The CA of a folder made by `init_ca`; issues station client certificates."""

    certificate: x509.Certificate
    _key: ec.EllipticCurvePrivateKey
    valid_days: int

    @classmethod
    def load(cls, folder: Path, *, valid_days: int) -> LocalCa:
        key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
        if not key_path.exists() or not cert_path.exists():
            raise NoCa(f"no certificate authority in {folder}: run `csms ca init`")
        if key_path.stat().st_mode & 0o077:
            raise ConfigError(f"{key_path} is readable by others: chmod 600 it")
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"cannot load the CA in {folder}: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or (
            key.public_key().public_numbers() != cert.public_key().public_numbers()  # type: ignore[union-attr]
        ):
            raise ConfigError(f"{key_path} is not the key of {cert_path}")
        return cls(cert, key, valid_days)

    def __repr__(self) -> str:
        return f"LocalCa({self.certificate.subject.rfc4514_string()})"

    @property
    def organization(self) -> str:
        values = self.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(values[0].value) if values else ""

    async def sign(
        self, csr: x509.CertificateSigningRequest, station_id: str, now: datetime
    ) -> list[x509.Certificate]:
        not_after = min(now + timedelta(days=self.valid_days), self.certificate.not_valid_after_utc)
        if not_after <= now:
            raise ValueError("the CA certificate has expired: it cannot issue certificates")
        issuer_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        leaf = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(csr.public_key())
            .serial_number(_serial())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,  # all a TLS client certificate signs with
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski.value),
                critical=False,
            )
            .sign(self._key, hashes.SHA384())
        )
        return [leaf]  # no sub-CA: the CA signs stations directly

    async def revoke(self, serial: int, at: datetime) -> None:
        """Nothing to do: this CA's CRLs are made from the database's list (`crl`)."""

    async def crl(
        self, revoked: Sequence[Revocation], now: datetime
    ) -> x509.CertificateRevocationList:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now)
            .next_update(now + CRL_LIFETIME)
        )
        for entry in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(entry.serial)
                .revocation_date(entry.revoked_at)
                .build()
            )
        return builder.sign(self._key, hashes.SHA384())
