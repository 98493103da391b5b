"""T/CEC 102 code tables: our OCPP and registry vocabulary as the numbers platforms expect."""

from __future__ import annotations

from typing import Final


class PushDataError(ValueError):
    """Our data cannot be expressed as a T/CEC message (a missing field, an unknown code)."""


# -- connector status -------------------------------------------------------------------------

OFFLINE: Final = 0
IDLE: Final = 1
OCCUPIED: Final = 2  # plugged in or finishing, not drawing energy
CHARGING: Final = 3
RESERVED: Final = 4
FAULT: Final = 255
CONNECTOR_STATUSES: Final = frozenset({OFFLINE, IDLE, OCCUPIED, CHARGING, RESERVED, FAULT})

# Unavailable is 255 too: T/CEC has no "out of service" and the public cannot use the connector.
_STATUS_V16: Final[dict[str, int]] = {
    "Available": IDLE,
    "Preparing": OCCUPIED,
    "SuspendedEV": OCCUPIED,
    "SuspendedEVSE": OCCUPIED,
    "Finishing": OCCUPIED,
    "Charging": CHARGING,
    "Reserved": RESERVED,
    "Faulted": FAULT,
    "Unavailable": FAULT,
}


def status_code(status: str, *, connected: bool, charging_state: str | None = None) -> int:
    """T/CEC connector Status from an OCPP 1.6 or 2.0.1 status (offline stations are 0).

    2.0.1 says only Occupied; its transaction's chargingState tells charging (3) from merely
    plugged in (2).
    """
    if not connected:
        return OFFLINE
    if status == "Occupied":
        return CHARGING if charging_state == "Charging" else OCCUPIED
    try:
        return _STATUS_V16[status]
    except KeyError:
        raise ValueError(f"unknown OCPP connector status {status!r}") from None


# -- stop reason ------------------------------------------------------------------------------

STOP_USER: Final = 0
STOP_PLATFORM: Final = 1
STOP_VEHICLE: Final = 2
STOP_FAULT: Final = 3
STOP_DISCONNECTED: Final = 4
STOP_OTHER: Final = 5

STOP_REASONS: Final[dict[str, int]] = {
    "Local": STOP_USER,
    "Remote": STOP_PLATFORM,
    "DeAuthorized": STOP_PLATFORM,
    "UnlockCommand": STOP_PLATFORM,
    "LocalOutOfCredit": STOP_PLATFORM,
    "StoppedByEV": STOP_VEHICLE,
    "SOCLimitReached": STOP_VEHICLE,
    "EnergyLimitReached": STOP_VEHICLE,
    "TimeLimitReached": STOP_VEHICLE,
    "CostLimitReached": STOP_VEHICLE,
    "EmergencyStop": STOP_FAULT,
    "PowerLoss": STOP_FAULT,
    "Reboot": STOP_FAULT,
    "HardReset": STOP_FAULT,
    "SoftReset": STOP_FAULT,
    "ImmediateReset": STOP_FAULT,
    "GroundFault": STOP_FAULT,
    "OvercurrentFault": STOP_FAULT,
    "PowerQuality": STOP_FAULT,
    "ReqEnergyTransferRejected": STOP_FAULT,
    "Timeout": STOP_FAULT,
    "MasterPass": STOP_FAULT,
    "EVDisconnected": STOP_DISCONNECTED,
    "Other": STOP_OTHER,
}


def stop_reason_code(reason: str | None) -> int:
    """T/CEC StopReason from an OCPP 1.6 Reason or 2.0.1 stoppedReason.

    ==  ==========================  ======================================================
    0   user stopped it             Local; None (both OCPP versions: omitted means Local)
    1   operator/platform stopped   Remote, DeAuthorized, UnlockCommand, LocalOutOfCredit
    2   vehicle/BMS or a set limit  StoppedByEV, SOCLimitReached, EnergyLimitReached,
                                    TimeLimitReached, CostLimitReached
    3   equipment fault or reset    EmergencyStop, PowerLoss, Reboot, HardReset, SoftReset,
                                    ImmediateReset, GroundFault, OvercurrentFault,
                                    PowerQuality, ReqEnergyTransferRejected, Timeout,
                                    MasterPass
    4   connector disconnected      EVDisconnected
    5   other                       Other and any reason we do not know
    ==  ==========================  ======================================================

    LocalOutOfCredit is 1: the account's balance, the operator's rule, ended the session.
    """
    if reason is None:
        return STOP_USER
    return STOP_REASONS.get(reason, STOP_OTHER)


# -- site category ----------------------------------------------------------------------------

CONSTRUCTION_OTHER: Final = 255

# T/CEC 102.2-2016 StationInfo.Construction (建设场所): 1 居民区 residential, 2 公共机构 public
# institution, 3 企事业单位 enterprise/institution, 4 写字楼 office building, 5 工业园区
# industrial park, 6 交通枢纽 transport hub, 7 大型文体设施 culture/sports venue, 8 城市绿地
# city green space, 9 大型建筑配建停车场 parking lot of a large building, 10 路边停车位 roadside
# parking, 11 城际高速服务区 intercity highway service area, 255 其他 other.
CONSTRUCTION: Final[dict[str, int]] = {
    "urban_public_parking": 9,  # a purpose-built public car park
    "commercial": 9,  # malls and complexes: their own car parks
    "transport_hub": 6,
    "residential_community": 1,
    "government_enterprise_internal": 3,
    "scenic_4a_plus": CONSTRUCTION_OTHER,
    "scenic_a": CONSTRUCTION_OTHER,
    "scenic_below_a": CONSTRUCTION_OTHER,
    "tourist_road_post": CONSTRUCTION_OTHER,
    "rv_camp": CONSTRUCTION_OTHER,
    # the plan's 普通国省干线公路停车区: lay-bys beside ordinary national/provincial roads, not
    # expressway service areas (11); the table's roadside parking is what they are
    "trunk_road_parking": 10,
    "highway_service_area": 11,
    "bus_depot": 6,
    "logistics_industrial_park": 5,
    "other": CONSTRUCTION_OTHER,
}

STATION_PUBLIC: Final = 1
STATION_PERSONAL: Final = 50
STATION_BUS: Final = 100
STATION_SANITATION: Final = 101
STATION_LOGISTICS: Final = 102
STATION_TAXI: Final = 103
STATION_OTHER: Final = 255

# Dedicated fleets are typed by what they serve, whoever may also plug in.
_FLEET_TYPES: Final[dict[str, int]] = {
    "bus_depot": STATION_BUS,
    "logistics_industrial_park": STATION_LOGISTICS,
}
ACCESS_MODES: Final = frozenset({"public", "shared", "private"})


def _known_category(category: str | None) -> str:
    if category is None:
        return "other"
    if category not in CONSTRUCTION:
        raise PushDataError(f"unknown site category {category!r}")
    return category


def construction_code(category: str | None) -> int:
    """T/CEC Construction (where the station is built) from our site category; None is 255."""
    return CONSTRUCTION[_known_category(category)]


def station_type(category: str | None, access_mode: str) -> int:
    """T/CEC StationType: bus depots 100 and logistics parks 102, else public 1 or other 255.

    Public and shared (open to the public at times) stations are public; private ones, inside
    a unit and closed to the public, are 255: T/CEC's 50 is a person's home charger.
    """
    category = _known_category(category)
    if access_mode not in ACCESS_MODES:
        raise PushDataError(f"unknown access mode {access_mode!r}")
    if category in _FLEET_TYPES:
        return _FLEET_TYPES[category]
    return STATION_OTHER if access_mode == "private" else STATION_PUBLIC


# -- area -------------------------------------------------------------------------------------

# GB/T 2260 codes of Shuozhou, Shanxi and its counties: (code, Chinese name, English name).
_AREAS: Final = (
    ("140600", "朔州市", "Shuozhou City"),
    ("140602", "朔城区", "Shuocheng District"),
    ("140603", "平鲁区", "Pinglu District"),
    ("140621", "山阴县", "Shanyin County"),
    ("140622", "应县", "Ying County"),
    ("140623", "右玉县", "Youyu County"),
    ("140681", "怀仁市", "Huairen City"),
)
AREA_CODES: Final[dict[str, str]] = {
    key: code
    for code, chinese, english in _AREAS
    for key in (chinese, english.casefold(), english.split()[0].casefold())
}


def area_code(county: str | None) -> str:
    """GB/T 2260 code from a county's Chinese or English name ("Ying County", "Ying"), or a code."""
    if county is None:
        raise PushDataError("the site has no county, so no GB/T 2260 area code")
    text = county.strip()
    if len(text) == 6 and text.isascii() and text.isdigit():
        return text
    code = AREA_CODES.get(text) or AREA_CODES.get(" ".join(text.split()).casefold())
    if code is None:
        raise PushDataError(f"no GB/T 2260 area code known for county {county!r}")
    return code
