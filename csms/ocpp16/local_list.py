"""OCPP 1.6 SendLocalList / GetLocalListVersion (§5.10, §5.15) <-> the version-neutral list."""

from __future__ import annotations

from typing import Any

from csms.domain.local_list import ListEntry, ListUpdate
from csms.rpc.payloads import drop_none, ocpp_time

Params = dict[str, Any]
MAX_ID_TAG = 20  # 1.6 IdToken is CiString20


def send_local_list(p: Params) -> tuple[str, Params]:
    """The CALL for a neutral update; an entry without status is a removal (§5.15: an idTag
    without idTagInfo is removed from the list)."""
    entries = []
    for entry in p["entries"]:
        if len(entry["id_token"]) > MAX_ID_TAG:
            continue  # a 1.6 station can never be shown this token: it has no place in the list
        item: Params = {"idTag": entry["id_token"]}
        if entry.get("status") is not None:
            group = entry.get("group_id")
            item["idTagInfo"] = drop_none(
                {
                    "status": entry["status"],
                    "expiryDate": ocpp_time(entry.get("expires_at")),
                    # a longer group id is left out, not cut: two groups sharing a prefix
                    # must not look alike
                    "parentIdTag": (
                        group if group is not None and len(group) <= MAX_ID_TAG else None
                    ),
                }
            )
        entries.append(item)
    return "SendLocalList", {
        "listVersion": p["version"],
        "updateType": "Full" if p["update_type"] == "full" else "Differential",
        "localAuthorizationList": entries,
    }


def read_update(payload: Params) -> ListUpdate:
    """A schema-valid SendLocalList.req as a neutral update."""
    entries = tuple(
        ListEntry(item["idTag"], None, (item.get("idTagInfo") or {}).get("status"))
        for item in payload.get("localAuthorizationList") or ()
    )
    return ListUpdate(payload["listVersion"], payload["updateType"] == "Full", entries)


def reported_version(response: Params) -> int:
    """GetLocalListVersion.conf: the version, 0 for no list, -1 when lists are not supported."""
    return int(response["listVersion"])
