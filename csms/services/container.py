"""The services one CSMS process runs, wired once in bootstrap and handed to every connection."""

from __future__ import annotations

from dataclasses import dataclass

from csms.services.authorization import AuthorizationService
from csms.services.billing import BillingService
from csms.services.stations import StationService
from csms.services.transactions import TransactionService


@dataclass(frozen=True, slots=True)
class Services:
    stations: StationService
    authorization: AuthorizationService
    transactions: TransactionService
    billing: BillingService
