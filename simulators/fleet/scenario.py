"""Scenarios: what a fleet run does, read from TOML (shipped ones by name, others by path).

A scenario says how many stations of which versions and charger types, how fast they come up
(0 per second = a boot storm), what their drivers do (nothing, back-to-back sessions, or
sessions following a daily profile compressed into the run), how often their network drops,
and when the run ends. Every number is bounded: a run always stops by itself. Pure, apart from
reading the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from simulators.meter import KINDS
from simulators.ocppj import VERSIONS
from simulators.station.plug_and_charge import CertificateHash, Contract

MAX_STATIONS = 100_000
MAX_DURATION_S = 7 * 24 * 3600
SESSION_MODES = ("none", "continuous", "profile")
END_CONDITIONS = ("duration", "accepted")
LEAVE_CAUSES = ("Local", "EVDisconnected")


class ScenarioError(ValueError):
    """The scenario file is missing, unreadable, or says something impossible."""


@dataclass(frozen=True, slots=True)
class ChargerMix:
    kind: str  # a key of meter.KINDS
    share: float
    evses: int


@dataclass(frozen=True, slots=True)
class County:
    name: str  # as the plan writes it, e.g. 朔城区
    code: str  # ASCII, used in station ids (OCPP identifiers are ASCII)
    weight: float


@dataclass(frozen=True, slots=True)
class PlugAndCharge:
    """[plug_and_charge]: a share of the 2.0.1 sessions starts by the EV's contract (ISO 15118:
    Get15118EVCertificate, GetCertificateStatus, Authorize with hash data) instead of a card."""

    share: float
    contract: Contract


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str = ""
    stations: int = 10
    duration_s: float = 60.0
    until: str = "duration"  # "accepted": end once every station is Accepted (duration = limit)
    seed: int = 1
    id_prefix: str = "SIM"
    ramp_rate: float = 10.0  # stations started per second; 0 = all at once
    versions: dict[str, float] = field(default_factory=lambda: {"1.6": 0.5, "2.0.1": 0.5})
    chargers: tuple[ChargerMix, ...] = (ChargerMix("ac7", 1.0, 1),)
    session_mode: str = "continuous"
    session_length_s: tuple[float, float] = (30.0, 60.0)
    session_gap_s: tuple[float, float] = (5.0, 15.0)
    meter_interval_s: int = 10
    leave: dict[str, float] = field(default_factory=lambda: {"Local": 1.0})
    tokens: tuple[str, ...] = ()  # empty: random cards
    profile: tuple[float, ...] = ()  # 24 hourly arrival weights (session_mode = "profile")
    profile_start_hour: float = 0.0
    churn_interval_s: float = 0.0  # mean seconds between network drops per station; 0 = none
    churn_offline_s: tuple[float, float] = (2.0, 5.0)
    connect_timeout_s: float = 30.0
    call_timeout_s: float = 30.0
    backoff_minimum_s: float = 3.0
    backoff_range_s: float = 3.0
    backoff_repeat: int = 5
    heartbeat_s: int = 300
    compression: bool = False
    password: str | None = None
    drain_timeout_s: float = 30.0
    counties: tuple[County, ...] = ()
    plug_and_charge: PlugAndCharge | None = None

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ScenarioError(f"scenario {self.name!r}: " + "; ".join(problems))

    @property
    def evses_per_station(self) -> float:
        return sum(c.share * c.evses for c in self.chargers)


def _problems(s: Scenario) -> list[str]:
    out = []
    if not 1 <= s.stations <= MAX_STATIONS:
        out.append(f"stations must be 1..{MAX_STATIONS}")
    if not 0 < s.duration_s <= MAX_DURATION_S:
        out.append(f"duration must be in (0, {MAX_DURATION_S}] seconds")
    if s.until not in END_CONDITIONS:
        out.append(f"until must be one of {END_CONDITIONS}")
    if s.ramp_rate < 0:
        out.append("ramp rate cannot be negative")
    if not s.versions or any(v not in VERSIONS for v in s.versions):
        out.append(f"versions must name some of {VERSIONS}")
    if any(w < 0 for w in s.versions.values()) or sum(s.versions.values()) <= 0:
        out.append("version shares must be >= 0 and not all 0")
    if not s.chargers:
        out.append("at least one charger type")
    for mix in s.chargers:
        if mix.kind not in KINDS:
            out.append(f"unknown charger type {mix.kind!r} (known: {', '.join(sorted(KINDS))})")
        if mix.share < 0 or not 1 <= mix.evses <= 99:
            out.append(f"charger {mix.kind}: share >= 0 and 1..99 EVSEs")
    if s.chargers and sum(c.share for c in s.chargers) <= 0:
        out.append("charger shares are all 0")
    if s.session_mode not in SESSION_MODES:
        out.append(f"sessions.mode must be one of {SESSION_MODES}")
    for label, (low, high) in (
        ("sessions.length", s.session_length_s),
        ("sessions.gap", s.session_gap_s),
        ("churn.offline", s.churn_offline_s),
    ):
        if low < 0 or high < low:
            out.append(f"{label} must be [low, high] with 0 <= low <= high")
    if s.session_length_s[1] <= 0 and s.session_mode != "none":
        out.append("sessions.length must allow sessions longer than 0 s")
    if s.meter_interval_s < 1:
        out.append("meter interval is at least 1 second")
    if not s.leave or any(k not in LEAVE_CAUSES for k in s.leave) or sum(s.leave.values()) <= 0:
        out.append(f"sessions.leave shares must name {LEAVE_CAUSES}")
    if any(not t or len(t) > 20 for t in s.tokens):
        out.append("tokens are 1..20 characters (1.6 idTag)")
    if s.session_mode == "profile" and (
        len(s.profile) != 24 or any(w < 0 for w in s.profile) or max(s.profile) <= 0
    ):
        out.append("profile.hours must be 24 non-negative weights, not all 0")
    if s.churn_interval_s < 0:
        out.append("churn.interval cannot be negative")
    if s.connect_timeout_s <= 0 or s.call_timeout_s <= 0 or s.drain_timeout_s < 0:
        out.append("timeouts must be positive")
    if s.backoff_minimum_s < 0 or s.backoff_range_s < 0 or s.backoff_repeat < 0:
        out.append("back-off settings cannot be negative")
    if s.heartbeat_s < 1:
        out.append("heartbeat is at least 1 second")
    if s.plug_and_charge is not None and not 0 <= s.plug_and_charge.share <= 1:
        out.append("plug_and_charge.share is between 0 and 1")
    if not s.id_prefix or any(c in s.id_prefix for c in ": /") or len(s.id_prefix) > 20:
        out.append("id_prefix: 1..20 characters, no ':', '/' or spaces")
    for county in s.counties:
        if not county.code.isascii() or not county.code.isalnum() or county.weight <= 0:
            out.append(f"county {county.name}: an ASCII letters/digits code and a weight > 0")
    return out


def _pair(value: Any, label: str) -> tuple[float, float]:
    if isinstance(value, int | float):
        return float(value), float(value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) for v in value)
    ):
        return float(value[0]), float(value[1])
    raise ScenarioError(f"{label} must be a number or [low, high]")


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ScenarioError(f"[{key}] must be a table")
    return value


def from_toml(text: str, *, name: str = "scenario") -> Scenario:
    """Parse scenario TOML; unknown keys are errors (a typo must not silently do nothing)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{name}: not valid TOML: {exc}") from None
    known_top = {
        "name", "description", "stations", "duration", "until", "seed", "id_prefix", "ramp",
        "versions", "chargers", "sessions", "profile", "churn", "network", "drain_timeout",
        "counties", "plug_and_charge",
    }  # fmt: skip
    unknown = set(data) - known_top
    if unknown:
        raise ScenarioError(f"{name}: unknown keys {sorted(unknown)}")
    ramp = _table(data, "ramp")
    sessions = _table(data, "sessions")
    profile = _table(data, "profile")
    churn = _table(data, "churn")
    network = _table(data, "network")
    backoff = network.get("backoff", {})
    for table, label, allowed in (
        (ramp, "ramp", {"rate"}),
        (sessions, "sessions", {"mode", "length", "gap", "meter_interval", "leave", "tokens"}),
        (profile, "profile", {"hours", "start_hour"}),
        (churn, "churn", {"interval", "offline"}),
        (
            network,
            "network",
            {
                "connect_timeout", "call_timeout", "backoff", "heartbeat", "compression",
                "password",
            },
        ),
        (backoff, "network.backoff", {"minimum", "range", "repeat"}),
    ):  # fmt: skip
        extra = set(table) - allowed
        if extra:
            raise ScenarioError(f"{name}: unknown keys in [{label}]: {sorted(extra)}")
    chargers = []
    for kind, spec in _table(data, "chargers").items():
        if isinstance(spec, int | float):
            spec = {"share": spec}
        if not isinstance(spec, dict) or set(spec) - {"share", "evses"}:
            raise ScenarioError(f"{name}: chargers.{kind} is a share or {{share, evses}}")
        chargers.append(ChargerMix(kind, float(spec.get("share", 1.0)), int(spec.get("evses", 1))))
    counties = []
    for county, spec in _table(data, "counties").items():
        if not isinstance(spec, dict) or set(spec) - {"code", "weight"} or "code" not in spec:
            raise ScenarioError(f"{name}: counties.{county} is {{code, weight}}")
        counties.append(County(county, str(spec["code"]), float(spec.get("weight", 1.0))))
    defaults = Scenario(name=str(data.get("name", name)))
    tokens = sessions.get("tokens", "random")
    try:
        return Scenario(
            name=defaults.name,
            description=str(data.get("description", "")),
            stations=int(data.get("stations", defaults.stations)),
            duration_s=float(data.get("duration", defaults.duration_s)),
            until=str(data.get("until", defaults.until)),
            seed=int(data.get("seed", defaults.seed)),
            id_prefix=str(data.get("id_prefix", defaults.id_prefix)),
            ramp_rate=float(ramp.get("rate", defaults.ramp_rate)),
            versions={str(k): float(v) for k, v in _table(data, "versions").items()}
            or defaults.versions,
            chargers=tuple(chargers) or defaults.chargers,
            session_mode=str(sessions.get("mode", defaults.session_mode)),
            session_length_s=_pair(
                sessions.get("length", list(defaults.session_length_s)), "sessions.length"
            ),
            session_gap_s=_pair(sessions.get("gap", list(defaults.session_gap_s)), "sessions.gap"),
            meter_interval_s=int(sessions.get("meter_interval", defaults.meter_interval_s)),
            leave={str(k): float(v) for k, v in sessions.get("leave", defaults.leave).items()},
            tokens=() if tokens == "random" else tuple(str(t) for t in tokens),
            profile=tuple(float(h) for h in profile.get("hours", ())),
            profile_start_hour=float(profile.get("start_hour", 0.0)),
            churn_interval_s=float(churn.get("interval", 0.0)),
            churn_offline_s=_pair(
                churn.get("offline", list(defaults.churn_offline_s)), "churn.offline"
            ),
            connect_timeout_s=float(network.get("connect_timeout", defaults.connect_timeout_s)),
            call_timeout_s=float(network.get("call_timeout", defaults.call_timeout_s)),
            backoff_minimum_s=float(backoff.get("minimum", defaults.backoff_minimum_s)),
            backoff_range_s=float(backoff.get("range", defaults.backoff_range_s)),
            backoff_repeat=int(backoff.get("repeat", defaults.backoff_repeat)),
            heartbeat_s=int(network.get("heartbeat", defaults.heartbeat_s)),
            compression=bool(network.get("compression", False)),
            password=network.get("password") or None,
            drain_timeout_s=float(data.get("drain_timeout", defaults.drain_timeout_s)),
            counties=tuple(counties),
            plug_and_charge=_plug_and_charge(name, _table(data, "plug_and_charge")),
        )
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"{name}: {exc}") from None


def _plug_and_charge(name: str, table: dict[str, Any]) -> PlugAndCharge | None:
    """[plug_and_charge] share, emaid, exi_request?, certificates = [{issuer_name_hash,
    issuer_key_hash, serial_number}, ...] (leaf first, 1..4)."""
    if not table:
        return None
    extra = set(table) - {"share", "emaid", "exi_request", "certificates"}
    if extra or "emaid" not in table or "certificates" not in table:
        raise ScenarioError(
            f"{name}: [plug_and_charge] needs emaid and certificates (share and exi_request "
            f"optional), got {sorted(table)}"
        )
    fields = {"issuer_name_hash", "issuer_key_hash", "serial_number"}
    hashes = []
    for item in table["certificates"]:
        if not isinstance(item, dict) or set(item) != fields:
            raise ScenarioError(f"{name}: each plug_and_charge certificate is {sorted(fields)}")
        hashes.append(CertificateHash(**{k: str(v) for k, v in item.items()}))
    exi = table.get("exi_request")
    contract = Contract(str(table["emaid"]), tuple(hashes), None if exi is None else str(exi))
    return PlugAndCharge(float(table.get("share", 1.0)), contract)


def shipped() -> dict[str, str]:
    """Scenario files shipped with the package: name -> TOML text."""
    folder = resources.files("simulators") / "scenarios"
    return {
        entry.name[: -len(".toml")]: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def load(name_or_path: str) -> Scenario:
    """A shipped scenario by name, or a TOML file by path."""
    builtin = shipped()
    if name_or_path in builtin:
        return from_toml(builtin[name_or_path], name=name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        raise ScenarioError(
            f"no scenario {name_or_path!r}: not a shipped one ({', '.join(sorted(builtin))}) "
            "and not a file"
        )
    return from_toml(path.read_text(encoding="utf-8"), name=path.stem)
