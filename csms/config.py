"""Settings for `csms serve`: each comes from a flag, else an environment variable, else a default.

`DATABASE_URL` unset means an embedded PostgreSQL under the data directory.
"""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csms.client_address import Network, parse_networks
from csms.data_dir import default_data_dir, resolve_data_dir, this_checkout
from csms.domain.api_key import admin_token_problem
from csms.errors import ConfigError
from csms.iso15118.loading import spec_problem
from csms.tcec.retry import DEFAULT_SCHEDULE, parse_schedule


class RegistrationPolicy(StrEnum):
    """What happens when an unknown station connects."""

    OPEN = "open"  # create it on first connect
    CLOSED = "closed"  # refuse with HTTP 404 at the handshake


class UnknownTokenPolicy(StrEnum):
    """How Authorize answers for an id token the CSMS has never seen."""

    REJECT = "reject"  # Invalid
    ACCEPT = "accept"  # Accepted (a free-vend or test network)


@dataclass(frozen=True, slots=True)
class Option:
    """One serve option: its flag, environment variable, default and help text."""

    dest: str
    flag: str
    env: str
    default: str | None
    help: str
    choices: tuple[str, ...] | None = None


OPTIONS: tuple[Option, ...] = (
    Option("host", "--host", "CSMS_HOST", "0.0.0.0", "address both servers listen on"),
    Option("ocpp_port", "--ocpp-port", "CSMS_OCPP_PORT", "9000", "OCPP WebSocket port (0: any)"),
    Option("http_port", "--http-port", "CSMS_HTTP_PORT", "8000", "HTTP API/health port (0: any)"),
    Option(
        "data_dir",
        "--data-dir",
        "CSMS_DATA_DIR",
        None,
        "where the embedded PostgreSQL lives (pgdata/), the same folder from any working "
        "directory; default: var/ of the source checkout, else $XDG_DATA_HOME/csms or "
        "~/.local/share/csms",
    ),
    Option(
        "database_url",
        "--database-url",
        "DATABASE_URL",
        None,
        "PostgreSQL URL; unset starts the embedded PostgreSQL under --data-dir",
    ),
    Option(
        "registration",
        "--registration",
        "CSMS_REGISTRATION",
        "open",
        "open: unknown stations are created on first connect; closed: refused with HTTP 404",
        ("open", "closed"),
    ),
    Option(
        "unknown_tokens",
        "--unknown-tokens",
        "CSMS_UNKNOWN_TOKENS",
        "reject",
        "Authorize answer for unknown id tokens: reject (Invalid) or accept",
        ("reject", "accept"),
    ),
    Option(
        "iso15118_provider",
        "--iso15118-provider",
        "CSMS_ISO15118_PROVIDER",
        None,
        "Plug & Charge certificate provider (2.0.1 M06, C07): none, test, test:fail, "
        "test:<fixture.json> or python:<module>:<name>",
    ),
    Option(
        "unaccepted_transactions",
        "--unaccepted-transactions",
        "CSMS_UNACCEPTED_TRANSACTIONS",
        "refuse",
        "2.0.1 TransactionEvent from a station whose boot is Pending or Rejected: refuse "
        "(CALLERROR SecurityError, B02.FR.09/B03.FR.07) or keep (store its billing data)",
        ("refuse", "keep"),
    ),
    Option(
        "heartbeat_interval",
        "--heartbeat-interval",
        "CSMS_HEARTBEAT_INTERVAL",
        "300",
        "seconds; sent in BootNotification responses",
    ),
    Option(
        "offline_grace",
        "--offline-grace",
        "CSMS_OFFLINE_GRACE",
        "60",
        "seconds of silence past the heartbeat interval before a station is marked offline",
    ),
    Option(
        "ping_interval",
        "--ping-interval",
        "CSMS_PING_INTERVAL",
        "30",
        "seconds between WebSocket pings (0 disables); a missed pong closes the socket",
    ),
    Option(
        "tls_cert", "--tls-cert", "CSMS_TLS_CERT", None, "PEM certificate: serve wss (profile 2/3)"
    ),
    Option("tls_key", "--tls-key", "CSMS_TLS_KEY", None, "PEM private key for --tls-cert"),
    Option(
        "tls_client_ca",
        "--tls-client-ca",
        "CSMS_TLS_CLIENT_CA",
        None,
        "PEM CA bundle; client certificates are checked against it (security profile 3)",
    ),
    Option(
        "ca_dir",
        "--ca-dir",
        "CSMS_CA_DIR",
        None,
        "folder of the built-in CA that signs station certificates (`csms ca init`); "
        "default: ca/ under --data-dir",
    ),
    Option(
        "cert_days", "--cert-days", "CSMS_CERT_DAYS", "365", "days a station certificate is valid"
    ),
    Option(
        "cert_renew_days",
        "--cert-renew-days",
        "CSMS_CERT_RENEW_DAYS",
        "30",
        "days before a station certificate expires that the station is asked to renew it",
    ),
    Option("node_id", "--node-id", "CSMS_NODE_ID", None, "this process's name (default: hostname)"),
    Option(
        "node_timeout",
        "--node-timeout",
        "CSMS_NODE_TIMEOUT",
        "15",
        "seconds without a heartbeat after which another node counts as dead (multi-node)",
    ),
    Option(
        "operator_id",
        "--operator-id",
        "CSMS_OPERATOR_ID",
        "default",
        "operator id for stations that name none (CDR chains and settlement are per operator)",
    ),
    Option(
        "service_price_floor",
        "--service-price-floor",
        "CSMS_SERVICE_PRICE_FLOOR",
        "0.1000",
        "lowest service price per kWh a tariff may charge, CNY ('none' = no floor)",
    ),
    Option(
        "service_price_ceiling",
        "--service-price-ceiling",
        "CSMS_SERVICE_PRICE_CEILING",
        "1.2000",
        "highest service price per kWh a tariff may charge, CNY ('none' = no ceiling)",
    ),
    Option(
        "power_tolerance",
        "--power-tolerance",
        "CSMS_POWER_TOLERANCE",
        "0.05",
        "metering: energy may exceed rated power x duration by this fraction",
    ),
    Option(
        "cost_interval",
        "--cost-interval",
        "CSMS_COST_INTERVAL",
        "60",
        "seconds between running-cost updates (CostUpdated, live feed)",
    ),
    Option(
        "sharing_interval",
        "--sharing-interval",
        "CSMS_SHARING_INTERVAL",
        "30",
        "seconds between checks of shared piles' windows (stops outside windows, close policy)",
    ),
    Option(
        "time_zone",
        "--time-zone",
        "CSMS_TIME_ZONE",
        "Asia/Shanghai",
        "IANA zone of settlement days and months and of new tariffs",
    ),
    Option(
        "secret_key_file",
        "--secret-key-file",
        "CSMS_SECRET_KEY_FILE",
        None,
        "file of the key that seals platform secrets at rest (default: <data-dir>/secret.key, "
        "created on first use; CSMS_SECRET_KEY gives the key itself, base64 of 32 bytes)",
    ),
    Option(
        "push_retry",
        "--push-retry",
        "CSMS_PUSH_RETRY",
        "60,60,60,60,300,600,1800,3600",
        "seconds between tries of a platform push after each failure; the last one repeats",
    ),
    Option(
        "push_poll",
        "--push-poll",
        "CSMS_PUSH_POLL",
        "0.5",
        "seconds between looks at the platform outbox when it is idle",
    ),
    Option(
        "push_concurrency",
        "--push-concurrency",
        "CSMS_PUSH_CONCURRENCY",
        "32",
        "pushes in flight per platform (one per station at a time, so order holds)",
    ),
    Option(
        "push_timeout",
        "--push-timeout",
        "CSMS_PUSH_TIMEOUT",
        "10",
        "seconds a platform has to answer one push",
    ),
    Option(
        "platform_token_lifetime",
        "--platform-token-lifetime",
        "CSMS_PLATFORM_TOKEN_LIFETIME",
        "7200",
        "seconds a bearer token the CSMS issues to a querying platform stays valid",
    ),
    Option(
        "auth_failures",
        "--auth-failures",
        "CSMS_AUTH_FAILURES",
        "10",
        "failed passwords of one station from one address, or wrong API keys from one address, "
        "within --auth-window that lock it out for --auth-lockout (HTTP 429; 0: no limit)",
    ),
    Option(
        "auth_source_failures",
        "--auth-source-failures",
        "CSMS_AUTH_SOURCE_FAILURES",
        "50",
        "failed station passwords from one address, whatever the station ids, within "
        "--auth-window that lock the address out (0: no limit; NATed chargers share addresses)",
    ),
    Option(
        "auth_window",
        "--auth-window",
        "CSMS_AUTH_WINDOW",
        "60",
        "seconds over which failed credentials are counted",
    ),
    Option(
        "auth_lockout",
        "--auth-lockout",
        "CSMS_AUTH_LOCKOUT",
        "300",
        "seconds a locked-out station or address is refused unchecked (at most 86400)",
    ),
    Option(
        "session_lifetime",
        "--session-lifetime",
        "CSMS_SESSION_LIFETIME",
        "43200",
        "seconds a signed-in operator's session lasts at most, however active",
    ),
    Option(
        "session_idle",
        "--session-idle",
        "CSMS_SESSION_IDLE",
        "1800",
        "seconds without a request after which a signed-in operator's session ends",
    ),
    Option(
        "trusted_proxies",
        "--trusted-proxies",
        "CSMS_TRUSTED_PROXIES",
        None,
        "comma-separated addresses/CIDRs of reverse proxies in front of the HTTP API whose "
        "X-Forwarded-For names the client (for the limits above); unset: the peer address "
        "counts, the header never",
    ),
    Option(
        "ocpp_trusted_proxies",
        "--ocpp-trusted-proxies",
        "CSMS_OCPP_TRUSTED_PROXIES",
        None,
        "the same for the OCPP port: HTTP proxies that set X-Forwarded-For at the handshake. "
        "Never a proxy passing TLS or TCP through: it forwards what the station wrote",
    ),
    Option(
        "log_level",
        "--log-level",
        "CSMS_LOG_LEVEL",
        "info",
        "logging level",
        ("debug", "info", "warning", "error"),
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated settings of one CSMS process."""

    host: str = "0.0.0.0"
    ocpp_port: int = 9000
    http_port: int = 8000
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ, this_checkout()))
    database_url: str | None = None
    registration: RegistrationPolicy = RegistrationPolicy.OPEN
    unknown_tokens: UnknownTokenPolicy = UnknownTokenPolicy.REJECT
    iso15118_provider: str | None = None  # see csms.iso15118.loading; None: no Plug & Charge
    # Store 2.0.1 TransactionEvents of Pending/Rejected stations instead of SecurityError.
    keep_unaccepted_transactions: bool = False
    heartbeat_interval: int = 300
    offline_grace: int = 60
    ping_interval: float = 30.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    ca_dir: Path | None = None  # None: data_dir / "ca"
    cert_days: int = 365
    cert_renew_days: int = 30
    node_id: str = field(default_factory=socket.gethostname)
    node_timeout: float = 15.0
    log_level: str = "info"
    operator_id: str = "default"
    service_price_floor: Decimal | None = Decimal("0.1000")
    service_price_ceiling: Decimal | None = Decimal("1.2000")
    power_tolerance: Decimal = Decimal("0.05")
    cost_interval: float = 60.0
    sharing_interval: float = 30.0
    time_zone: str = "Asia/Shanghai"
    secret_key_file: Path | None = None
    # CSMS_SECRET_KEY: the sealing key itself (environment only, never a flag).
    secret_key: str | None = field(default=None, repr=False)
    push_retry: tuple[float, ...] = DEFAULT_SCHEDULE
    push_poll: float = 0.5
    push_concurrency: int = 32
    push_timeout: float = 10.0
    platform_token_lifetime: int = 7200
    auth_failures: int = 10
    auth_source_failures: int = 50
    auth_window: float = 60.0
    auth_lockout: float = 300.0
    session_lifetime: float = 43200.0  # 12 h absolute
    session_idle: float = 1800.0  # 30 min without a request
    trusted_proxies: tuple[Network, ...] = ()
    ocpp_trusted_proxies: tuple[Network, ...] = ()
    # Validate our own CALLRESULT payloads against the schemas (tests turn it on).
    validate_responses: bool = False
    # CSMS_ADMIN_TOKEN: an admin API key accepted without being stored (environment only, so
    # it never shows in `ps`). Unset: the first start creates an admin key and prints it once.
    admin_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("ocpp_port", "http_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name} must be 0..65535, got {port}")
        if self.heartbeat_interval < 1:
            raise ConfigError("heartbeat interval must be at least 1 second")
        if self.node_timeout < 1:
            raise ConfigError("node timeout must be at least 1 second")
        if self.offline_grace < 0:
            raise ConfigError("offline grace must not be negative")
        if (
            self.service_price_floor is not None
            and self.service_price_ceiling is not None
            and self.service_price_floor > self.service_price_ceiling
        ):
            raise ConfigError("service price floor is above the ceiling")
        if self.power_tolerance < 0:
            raise ConfigError("power tolerance must not be negative")
        if self.cost_interval <= 0:
            raise ConfigError("cost interval must be positive")
        if self.sharing_interval <= 0:
            raise ConfigError("sharing interval must be positive")
        if self.push_poll <= 0 or self.push_timeout <= 0:
            raise ConfigError("push poll and push timeout must be positive")
        if not 1 <= self.push_concurrency <= 1000:
            raise ConfigError("push concurrency must be 1..1000")
        if self.platform_token_lifetime < 60:
            raise ConfigError("platform token lifetime must be at least 60 seconds")
        if self.auth_failures < 0 or self.auth_source_failures < 0:
            raise ConfigError("auth failures must not be negative (0 turns the limit off)")
        if not 0 < self.auth_window <= 86400 or not 0 < self.auth_lockout <= 86400:
            raise ConfigError("auth window and auth lockout must be 0 < seconds <= 86400")
        if not 60 <= self.session_idle <= self.session_lifetime <= 30 * 86400:
            raise ConfigError(
                "session idle and lifetime must be 60 <= idle <= lifetime <= 2592000 seconds"
            )
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"time zone {self.time_zone!r} is not an IANA zone") from None
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("--tls-cert and --tls-key go together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ConfigError("--tls-client-ca needs --tls-cert/--tls-key (profile 3 is TLS)")
        if not 1 <= self.cert_days <= 3650 or not 0 <= self.cert_renew_days < self.cert_days:
            raise ConfigError("cert days must be 1..3650 and cert renew days 0..cert days - 1")
        if self.admin_token is not None and (problem := admin_token_problem(self.admin_token)):
            raise ConfigError(
                f"CSMS_ADMIN_TOKEN {problem}: make one with `openssl rand -hex 32`, "
                "or unset it to have a key generated at first start"
            )

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def ca_folder(self) -> Path:
        """Where the built-in CA's key and certificate are."""
        return self.ca_dir if self.ca_dir is not None else self.data_dir / "ca"

    @property
    def offline_after(self) -> float:
        """Seconds of silence after which a connected station counts as offline."""
        return float(self.heartbeat_interval + self.offline_grace)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare every serve option, showing its environment variable and default in --help."""
    for opt in OPTIONS:
        shown = f" [env {opt.env}" + (f"; default: {opt.default}]" if opt.default else "]")
        parser.add_argument(
            opt.flag, dest=opt.dest, default=None, choices=opt.choices, help=opt.help + shown
        )


def settings_from(
    args: argparse.Namespace | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Resolve flag > environment > default for every option, then validate."""
    environ = os.environ if env is None else env
    raw: dict[str, str | None] = {}
    for opt in OPTIONS:
        value = getattr(args, opt.dest, None) if args is not None else None
        if value is None:
            value = environ.get(opt.env) or opt.default
        if value is not None and opt.choices is not None and value not in opt.choices:
            raise ConfigError(f"{opt.env}={value!r}: expected one of {', '.join(opt.choices)}")
        raw[opt.dest] = value

    def number(name: str, kind: type[int] | type[float]) -> int | float:
        text = raw[name]
        try:
            return kind(text) if text is not None else 0
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {text!r}") from None

    def price(name: str) -> Decimal | None:
        text = (raw[name] or "").strip()
        if text.lower() in ("", "none"):
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ConfigError(f"{name} must be a number, got {text!r}") from None
        if not value.is_finite() or value < 0:
            raise ConfigError(f"{name} must be a non-negative number, got {text!r}")
        return value

    def networks(name: str) -> tuple[Network, ...]:
        try:
            return parse_networks(raw[name] or "")
        except ValueError as exc:
            raise ConfigError(f"--{name.replace('_', '-')}: {exc}") from None

    def path(name: str) -> Path | None:
        text = raw[name]
        return Path(text) if text else None

    return Settings(
        host=raw["host"] or "0.0.0.0",
        ocpp_port=int(number("ocpp_port", int)),
        http_port=int(number("http_port", int)),
        data_dir=resolve_data_dir(raw["data_dir"], environ, this_checkout()),
        database_url=raw["database_url"] or None,
        registration=RegistrationPolicy(raw["registration"] or "open"),
        unknown_tokens=UnknownTokenPolicy(raw["unknown_tokens"] or "reject"),
        iso15118_provider=iso15118_provider(raw["iso15118_provider"]),
        keep_unaccepted_transactions=raw["unaccepted_transactions"] == "keep",
        heartbeat_interval=int(number("heartbeat_interval", int)),
        offline_grace=int(number("offline_grace", int)),
        ping_interval=float(number("ping_interval", float)),
        tls_cert=path("tls_cert"),
        tls_key=path("tls_key"),
        tls_client_ca=path("tls_client_ca"),
        ca_dir=path("ca_dir"),
        cert_days=int(number("cert_days", int)),
        cert_renew_days=int(number("cert_renew_days", int)),
        node_id=raw["node_id"] or socket.gethostname(),
        node_timeout=float(number("node_timeout", float)),
        log_level=raw["log_level"] or "info",
        operator_id=raw["operator_id"] or "default",
        service_price_floor=price("service_price_floor"),
        service_price_ceiling=price("service_price_ceiling"),
        power_tolerance=price("power_tolerance") or Decimal(0),
        cost_interval=float(number("cost_interval", float)),
        sharing_interval=float(number("sharing_interval", float)),
        time_zone=raw["time_zone"] or "Asia/Shanghai",
        secret_key_file=path("secret_key_file"),
        secret_key=environ.get("CSMS_SECRET_KEY") or None,
        push_retry=retry_schedule(raw["push_retry"] or ""),
        push_poll=float(number("push_poll", float)),
        push_concurrency=int(number("push_concurrency", int)),
        push_timeout=float(number("push_timeout", float)),
        platform_token_lifetime=int(number("platform_token_lifetime", int)),
        auth_failures=int(number("auth_failures", int)),
        auth_source_failures=int(number("auth_source_failures", int)),
        auth_window=float(number("auth_window", float)),
        auth_lockout=float(number("auth_lockout", float)),
        session_lifetime=float(number("session_lifetime", float)),
        session_idle=float(number("session_idle", float)),
        trusted_proxies=networks("trusted_proxies"),
        ocpp_trusted_proxies=networks("ocpp_trusted_proxies"),
        admin_token=environ.get("CSMS_ADMIN_TOKEN") or None,
    )


def iso15118_provider(spec: str | None) -> str | None:
    problem = spec_problem(spec)
    if problem is not None:
        raise ConfigError(problem)
    return spec or None


def retry_schedule(text: str) -> tuple[float, ...]:
    try:
        return parse_schedule(text)
    except ValueError as exc:
        raise ConfigError(f"CSMS_PUSH_RETRY: {exc}") from None
