"""What the HTTP layer needs from the running CSMS, handed over once at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from csms.config import Settings
from csms.outage import OutageLog
from csms.services.billing import BillingService
from csms.services.certificates import CertificateService
from csms.services.commands import CommandService
from csms.services.events import EventBus
from csms.services.lockouts import LockoutService
from csms.services.monitoring import MonitoringService, ReportService
from csms.services.notifications import NotificationService
from csms.services.passwords import PasswordRotation
from csms.services.platform_queries import PlatformQueries
from csms.services.platforms import PlatformService
from csms.services.sharing import AccessService, SharingEnforcer
from csms.store.api_keys import ApiKeyStore
from csms.store.audit import AuditStore
from csms.store.cdrs import CdrStore
from csms.store.events import EventStore
from csms.store.metering import MeteringStore
from csms.store.monitoring import MonitoringStore
from csms.store.outage import cause as outage_cause
from csms.store.registry import RegistryStore
from csms.store.sharing import SharingStore
from csms.store.stations import StationStore
from csms.store.tariffs import TariffStore
from csms.store.tokens import TokenStore
from csms.store.transactions import TransactionStore
from csms.store.users import UserStore
from csms.store.utilization import UtilizationStore


@dataclass(frozen=True, slots=True)
class ApiContext:
    node_id: str
    db_ready: Callable[[], Awaitable[bool]]
    stations: StationStore
    tokens: TokenStore
    transactions: TransactionStore
    keys: ApiKeyStore
    events: EventStore
    commands: CommandService
    bus: EventBus
    billing: BillingService
    tariffs: TariffStore
    cdrs: CdrStore
    metering: MeteringStore
    sharing: SharingStore
    access: AccessService
    enforcer: SharingEnforcer
    settings: Settings
    registry: RegistryStore
    lockouts: LockoutService
    utilization: UtilizationStore
    monitoring: MonitoringService
    reports: ReportService
    monitoring_store: MonitoringStore
    platforms: PlatformService
    platform_queries: PlatformQueries
    audit: AuditStore  # who decommissioned, re-commissioned or deleted what
    users: UserStore  # operator accounts and their sessions
    notifications: NotificationService  # 2.0.1 reports, monitors, display messages, EV data
    # SHA-256 of CSMS_ADMIN_TOKEN, accepted as an admin key without being stored
    bootstrap_admin_hash: str | None = None
    # says a database outage once per interval (shared with the gateway and background loops)
    outage: OutageLog = field(default_factory=lambda: OutageLog(outage_cause))
    passwords: PasswordRotation | None = None  # rotate-password (issue 16); None: not offered
    certificates: CertificateService | None = None  # station certificates (issue 16, A02/A03)
