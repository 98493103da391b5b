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


def key_hash(key: str) -> str:
    """Keys are random, so a plain SHA-256 suffices (no slow hash needed to resist guessing)."""
    return hashlib.sha256(key.encode()).hexdigest()
