"""The station password in OCPP 1.6 (security whitepaper): ChangeConfiguration AuthorizationKey.

1.6J §6.2.2 has the Central System set a Charge Point's Basic-auth password with this key; the
whitepaper gives its format: at most 20 bytes, sent as up to 40 hexadecimal digits.
"""

from __future__ import annotations

from typing import Any

from csms.domain.password import authorization_key

Params = dict[str, Any]
KEY = "AuthorizationKey"
REDACTED = "(new password, not logged)"
# ChangeConfiguration.conf statuses under which the station will use the new key (§7.8).
TAKEN = frozenset({"Accepted", "RebootRequired"})


def password_call(password: str) -> tuple[str, Params, Params]:
    """(action, payload for the wire, payload for the command log)."""
    return (
        "ChangeConfiguration",
        {"key": KEY, "value": authorization_key(password)},
        {"key": KEY, "value": REDACTED},
    )


def password_answer(response: Params) -> str:
    """The station's status for the new key."""
    return str(response.get("status"))


def sets_password(action: str, payload: Params) -> bool:
    """Whether a CALL the operator composed would change the station's password (any case of
    the key: a station matching names loosely must not be a way round)."""
    key = payload.get("key")
    return action == "ChangeConfiguration" and isinstance(key, str) and key.lower() == KEY.lower()
