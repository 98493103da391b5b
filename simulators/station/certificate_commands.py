"""The certificate messages of a simulated station in both versions: it sends SignCertificate
when triggered (2.0.1 TriggerMessage SignChargingStationCertificate, 1.6 ExtendedTriggerMessage
SignChargePointCertificate), keeps what CertificateSigned delivers, and answers
InstallCertificate, DeleteCertificate and GetInstalledCertificateIds from its wallet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.rpc import Handler, Reply
from simulators.station.certificates import CertificateWallet

if TYPE_CHECKING:
    from simulators.station.station import Station

STATION_CERTIFICATE = "ChargingStationCertificate"
# 1.6 ExtendedTriggerMessage requests the plain TriggerMessage handler also knows
SHARED_TRIGGERS = (
    "BootNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)


class CertificateCommands:
    def __init__(self, station: Station, version: str, trigger: Handler) -> None:
        self.station = station
        self.version = version
        self._trigger = trigger  # the dialect's TriggerMessage, for everything else
        self.wallet = CertificateWallet(station.config.station_id, station.config.cpo_name)
        self.sign_answers: list[str] = []  # the CSMS's answers to SignCertificate, in order

    def handlers(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = {
            "CertificateSigned": self.certificate_signed,
            "InstallCertificate": self.install_certificate,
            "DeleteCertificate": self.delete_certificate,
            "GetInstalledCertificateIds": self.get_installed_certificate_ids,
        }
        if self.version == "1.6":
            handlers["ExtendedTriggerMessage"] = self.extended_trigger
        else:
            handlers["TriggerMessage"] = self.trigger
        return handlers

    async def _send_csr(self) -> None:
        payload: dict[str, Any] = {"csr": self.wallet.new_csr()}
        if self.version != "1.6":
            payload["certificateType"] = STATION_CERTIFICATE
        answer = await self.station.call("SignCertificate", payload)
        self.sign_answers.append("none" if answer is None else str(answer.get("status")))

    async def trigger(self, p: dict[str, Any]) -> Reply:
        """2.0.1 F06 / A02: a new CSR on SignChargingStationCertificate."""
        if p["requestedMessage"] == "SignChargingStationCertificate":
            return Reply({"status": "Accepted"}, then=self._send_csr)
        return await self._trigger(p)

    async def extended_trigger(self, p: dict[str, Any]) -> Reply:
        """1.6 whitepaper ExtendedTriggerMessage: the CSR, or what TriggerMessage sends."""
        requested = p["requestedMessage"]
        if requested == "SignChargePointCertificate":
            return Reply({"status": "Accepted"}, then=self._send_csr)
        if requested in SHARED_TRIGGERS:
            return await self._trigger(p)
        return Reply({"status": "NotImplemented"})

    async def certificate_signed(self, p: dict[str, Any]) -> Reply:
        accepted = self.wallet.accept_chain(p["certificateChain"])
        return Reply({"status": "Accepted" if accepted else "Rejected"})

    async def install_certificate(self, p: dict[str, Any]) -> Reply:
        return Reply({"status": self.wallet.install(p["certificateType"], p["certificate"])})

    async def delete_certificate(self, p: dict[str, Any]) -> Reply:
        return Reply({"status": self.wallet.delete(p["certificateHashData"])})

    async def get_installed_certificate_ids(self, p: dict[str, Any]) -> Reply:
        kinds = p.get("certificateType", [])
        if isinstance(kinds, str):  # 1.6 asks about one type
            kinds = [kinds]
        found = self.wallet.installed(kinds)
        if not found:
            return Reply({"status": "NotFound"})
        if self.version == "1.6":
            return Reply({"status": "Accepted", "certificateHashData": [h for _, h in found]})
        chains = [{"certificateType": kind, "certificateHashData": h} for kind, h in found]
        return Reply({"status": "Accepted", "certificateHashDataChain": chains})
