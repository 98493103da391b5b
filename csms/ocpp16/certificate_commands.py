"""The certificate commands as 1.6 security-extension CALLs (1.6 security whitepaper):
ExtendedTriggerMessage SignChargePointCertificate, CertificateSigned, InstallCertificate,
GetInstalledCertificateIds, DeleteCertificate.

1.6 knows two installable types (the Central System and manufacturer roots) and asks about
one type at a time; anything else is refused before it is sent.
"""

from __future__ import annotations

from typing import Any

from csms.errors import InvalidInput
from csms.rpc.payloads import Builder

Params = dict[str, Any]

TYPES = {
    "csms-root": "CentralSystemRootCertificate",
    "manufacturer-root": "ManufacturerRootCertificate",
}


def _type(name: str) -> str:
    if name not in TYPES:
        raise InvalidInput(
            f"OCPP 1.6 has no {name} certificates; it knows {', '.join(sorted(TYPES))}"
        )
    return TYPES[name]


def _install(p: Params) -> tuple[str, Params]:
    return "InstallCertificate", {
        "certificateType": _type(p["certificate_type"]),
        "certificate": p["certificate"],
    }


def _get_ids(p: Params) -> tuple[str, Params]:
    types = p.get("certificate_types", [])
    if len(types) != 1:
        raise InvalidInput("OCPP 1.6 GetInstalledCertificateIds asks about exactly one type")
    return "GetInstalledCertificateIds", {"certificateType": _type(types[0])}


def _delete(p: Params) -> tuple[str, Params]:
    return "DeleteCertificate", {
        "certificateHashData": {
            "hashAlgorithm": p["hash_algorithm"],
            "issuerNameHash": p["issuer_name_hash"],
            "issuerKeyHash": p["issuer_key_hash"],
            "serialNumber": p["serial_number"],
        }
    }


def _renew(_p: Params) -> tuple[str, Params]:
    return "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}


def _certificate_signed(p: Params) -> tuple[str, Params]:
    return "CertificateSigned", {"certificateChain": p["chain"]}  # 1.6 has no type field


CERTIFICATE_BUILDERS: dict[str, Builder] = {
    "install-certificate": _install,
    "get-installed-certificate-ids": _get_ids,
    "delete-certificate": _delete,
    "renew-certificate": _renew,
    "certificate-signed": _certificate_signed,
}
