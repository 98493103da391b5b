"""OCPP versions the CSMS speaks, and their WebSocket subprotocol names."""

from __future__ import annotations

from enum import StrEnum


class OcppVersion(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"

    @property
    def subprotocol(self) -> str:
        return f"ocpp{self.value}"

    @classmethod
    def from_subprotocol(cls, name: str | None) -> OcppVersion | None:
        for version in cls:
            if version.subprotocol == name:
                return version
        return None


# Newest first: when a station offers several, the CSMS picks the newest it knows.
PREFERENCE: tuple[OcppVersion, ...] = (OcppVersion.V201, OcppVersion.V16)


def choose_subprotocol(offered: list[str] | tuple[str, ...]) -> str | None:
    """Pick the newest OCPP subprotocol the station offered, or None when none matches."""
    for version in PREFERENCE:
        if version.subprotocol in offered:
            return version.subprotocol
    return None
