"""Operator API keys and roles: viewers read, operators also command, admins also manage access."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        return order.index(self) >= order.index(needed)


def new_key() -> str:
    """A fresh key: 256 random bits, prefixed so leaked keys are easy to grep for."""
    return "csms_" + secrets.token_urlsafe(32)


# CSMS_ADMIN_TOKEN is an admin key chosen by a person: refuse what a guess or a copied example
# file would find. (Generated keys, `new_key`, are 48 characters.)
MIN_ADMIN_TOKEN_LENGTH = 16
_PLACEHOLDERS = ("changeme", "change-me", "change_me", "replace-me", "your-token", "example")


def admin_token_problem(token: str) -> str | None:
    """Why `token` is too weak to be CSMS_ADMIN_TOKEN, or None when it will do."""
    if len(token) < MIN_ADMIN_TOKEN_LENGTH:
        return f"is {len(token)} characters; at least {MIN_ADMIN_TOKEN_LENGTH} are needed"
    lowered = token.lower()
    for placeholder in _PLACEHOLDERS:
        if placeholder in lowered:
            return f"is a placeholder (it contains {placeholder!r})"
    if len(set(token)) < 6:
        return "repeats too few characters to be a secret"
    return None


def key_hash(key: str) -> str:
    """Keys are random, so a plain SHA-256 suffices (no slow hash needed to resist guessing)."""
    return hashlib.sha256(key.encode()).hexdigest()
