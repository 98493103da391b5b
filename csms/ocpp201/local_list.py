"""OCPP 2.0.1 SendLocalList / GetLocalListVersion (D01, D02) <-> the version-neutral list."""

from __future__ import annotations

from typing import Any

from csms.domain.local_list import ListEntry, ListUpdate
from csms.errors import InvalidInput
from csms.rpc.payloads import drop_none, ocpp_time

Params = dict[str, Any]


def _entry(entry: Params) -> Params:
    if entry.get("status") is None:
        # D01: an entry without idTokenInfo removes the token; the station matches idToken
        # and type, so the type must be the one it was sent with, never a guess
        if not entry.get("type"):
            raise InvalidInput(
                f"id token {entry['id_token']} is neither in the station's known list nor in "
                f"the token store: its type is unknown, so it cannot be removed"
            )
        return {"idToken": {"idToken": entry["id_token"], "type": entry["type"]}}
    info = drop_none(
        {
            "status": entry["status"],
            "cacheExpiryDateTime": ocpp_time(entry.get("expires_at")),
            "groupIdToken": (
                {"idToken": entry["group_id"], "type": "Central"} if entry.get("group_id") else None
            ),
        }
    )
    token = {"idToken": entry["id_token"], "type": entry.get("type") or "ISO14443"}
    return {"idToken": token, "idTokenInfo": info}


def send_local_list(p: Params) -> tuple[str, Params]:
    """The CALL for a neutral update (an entry without status is a removal)."""
    entries = [_entry(entry) for entry in p["entries"]]
    payload: Params = {
        "versionNumber": p["version"],
        "updateType": "Full" if p["update_type"] == "full" else "Differential",
    }
    if entries:
        payload["localAuthorizationList"] = entries
    return "SendLocalList", payload


def read_update(payload: Params) -> ListUpdate:
    """A schema-valid SendLocalListRequest as a neutral update."""
    entries = tuple(
        ListEntry(
            item["idToken"]["idToken"],
            item["idToken"].get("type"),
            (item.get("idTokenInfo") or {}).get("status"),
        )
        for item in payload.get("localAuthorizationList") or ()
    )
    return ListUpdate(payload["versionNumber"], payload["updateType"] == "Full", entries)


def reported_version(response: Params) -> int:
    """GetLocalListVersionResponse: the version, 0 when there is no list (D02.FR.02)."""
    return int(response["versionNumber"])
