"""Id tokens and the authorization decision (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_ID_TOKEN_LENGTH = 36  # 2.0.1 IdTokenType.idToken; 1.6 idTag is at most 20


class AuthStatus(StrEnum):
    """Authorization outcome; the 1.6 and 2.0.1 spellings agree for these."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"
    # 2.0.1 only: valid token, but not here and now (a shared pile outside its public hours);
    # 1.6 has no such status and gets Invalid.
    NOT_AT_THIS_TIME = "NotAtThisTime"


@dataclass(frozen=True, slots=True)
class IdToken:
    """A stored id token (RFID uid, app id, ...)."""

    id_token: str
    token_type: str = "ISO14443"
    group_id: str | None = None
    expires_at: datetime | None = None
    blocked: bool = False
    # Soft-deleted: kept for the sessions naming it, answered Invalid (never as unknown, which
    # a network accepting unknown tokens would let charge).
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuthDecision:
    status: AuthStatus
    expires_at: datetime | None = None
    group_id: str | None = None
    # For a start: whether the driver charges as a member of the owner unit or as the public,
    # and why they were let in or refused (the sharing rules' words).
    price_class: str | None = None
    reason: str | None = None


def decide(
    token: IdToken | None,
    now: datetime,
    *,
    in_other_transaction: bool,
    accept_unknown: bool,
) -> AuthDecision:
    """Answer an authorization request from the stored token.

    Blocked beats expired beats concurrent use; an unknown token is Invalid unless the network
    accepts unknown tokens; a deleted token is Invalid whatever that policy.
    """
    if token is None:
        return AuthDecision(AuthStatus.ACCEPTED if accept_unknown else AuthStatus.INVALID)
    if token.deleted_at is not None:
        return AuthDecision(AuthStatus.INVALID)
    if token.blocked:
        status = AuthStatus.BLOCKED
    elif token.expires_at is not None and token.expires_at <= now:
        status = AuthStatus.EXPIRED
    elif in_other_transaction:
        status = AuthStatus.CONCURRENT_TX
    else:
        status = AuthStatus.ACCEPTED
    return AuthDecision(status, token.expires_at, token.group_id)
