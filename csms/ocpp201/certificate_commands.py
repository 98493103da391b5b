"""The certificate commands as 2.0.1 CALLs: A02 renewal trigger and CertificateSigned, M03-M05
(GetInstalledCertificateIds, DeleteCertificate, InstallCertificate).

Parameters arrive validated and in snake_case (api/certificate_schemas.py); certificate types
are version-neutral names, mapped here to 2.0.1's enumerations.
"""

from __future__ import annotations

from typing import Any

from csms.errors import InvalidInput
from csms.rpc.payloads import Builder, drop_none

Params = dict[str, Any]

# version-neutral name -> InstallCertificateUseEnumType / GetCertificateIdUseEnumType
TYPES = {
    "csms-root": "CSMSRootCertificate",
    "manufacturer-root": "ManufacturerRootCertificate",
    "v2g-root": "V2GRootCertificate",
    "mo-root": "MORootCertificate",
    "v2g-chain": "V2GCertificateChain",  # asked about, never installed (M03)
}


def _type(name: str, *, install: bool) -> str:
    if install and name == "v2g-chain":
        raise InvalidInput("a V2G certificate chain is signed for the station, not installed")
    return TYPES[name]


def _install(p: Params) -> tuple[str, Params]:
    return "InstallCertificate", {
        "certificateType": _type(p["certificate_type"], install=True),
        "certificate": p["certificate"],
    }


def _get_ids(p: Params) -> tuple[str, Params]:
    types = [_type(t, install=False) for t in p.get("certificate_types", [])]
    return "GetInstalledCertificateIds", {"certificateType": types} if types else {}


def hash_data(p: Params) -> Params:
    """CertificateHashDataType from the version-neutral fields (the same in 1.6)."""
    return {
        "hashAlgorithm": p["hash_algorithm"],
        "issuerNameHash": p["issuer_name_hash"],
        "issuerKeyHash": p["issuer_key_hash"],
        "serialNumber": p["serial_number"],
    }


def _delete(p: Params) -> tuple[str, Params]:
    return "DeleteCertificate", {"certificateHashData": hash_data(p)}


def _renew(_p: Params) -> tuple[str, Params]:
    # A02: the CSMS asks for a new CSR with TriggerMessage
    return "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}


def _certificate_signed(p: Params) -> tuple[str, Params]:
    return "CertificateSigned", drop_none(
        {"certificateChain": p["chain"], "certificateType": p.get("certificate_type")}
    )


CERTIFICATE_BUILDERS: dict[str, Builder] = {
    "install-certificate": _install,
    "get-installed-certificate-ids": _get_ids,
    "delete-certificate": _delete,
    "renew-certificate": _renew,
    "certificate-signed": _certificate_signed,
}
