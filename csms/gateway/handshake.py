"""Pure parts of the OCPP-J opening handshake: station id, Basic credentials, client cert name."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote, urlsplit


def station_id_from_path(path: str) -> str | None:
    """The station id is the last path segment, whatever the prefix (`/ocpp/CP-1`, `/CP-1`),
    percent-decoded (1.6J and 2.0.1 Part 4 §3.1.1: `RDAM%20123` is the station `RDAM 123`);
    None when its percent-encoding is not UTF-8."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    if not segments:
        return ""
    try:
        return unquote(segments[-1], errors="strict")
    except UnicodeDecodeError:
        return None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, or None if absent/garbled."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def certificate_common_name(peercert: dict[str, Any] | None) -> str | None:
    """The subject CN of a verified client certificate (as `ssl.getpeercert()` returns it)."""
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def certificate_serial(peercert: dict[str, Any] | None) -> int | None:
    """The serial number of a verified client certificate (`getpeercert()` gives it in hex)."""
    text = (peercert or {}).get("serialNumber")
    try:
        return int(text, 16) if isinstance(text, str) else None
    except ValueError:
        return None
