"""The services one CSMS process runs, wired once in bootstrap and handed to every connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from csms.services.authorization import AuthorizationService
from csms.services.billing import BillingService
from csms.services.notifications import NotificationService
from csms.services.stations import StationService
from csms.services.transactions import TransactionService

if TYPE_CHECKING:
    from csms.iso15118.relay import Iso15118Relay
    from csms.services.certificates import CertificateService
    from csms.services.passwords import PasswordSwitch


@dataclass(frozen=True, slots=True)
class Services:
    stations: StationService
    authorization: AuthorizationService
    transactions: TransactionService
    billing: BillingService
    notifications: NotificationService
    certificates: CertificateService | None = None  # station certificates (A02/A03, M)
    passwords: PasswordSwitch | None = None  # settles password rotations at the handshake
    iso15118: Iso15118Relay | None = None  # Plug & Charge relay (M06, C07); None: not offered
