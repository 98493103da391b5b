"""Station passwords (security profiles 1 and 2): scrypt hashes, never the password itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import string
from datetime import timedelta
from enum import StrEnum

from csms.errors import InvalidInput

# 2.0.1 SecurityCtrlr.BasicAuthPassword is 16..40 characters; 1.6 security whitepaper agrees.
MIN_LENGTH, MAX_LENGTH = 16, 40
_N, _R, _P = 2**14, 8, 1


def check_password_policy(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            f"a station password has {MIN_LENGTH} to {MAX_LENGTH} characters (OCPP security)"
        )


def hash_password(password: str) -> str:
    check_password_policy(password)
    return scrypt_hash(password)


def scrypt_hash(password: str) -> str:
    """A self-describing scrypt hash (n=2**14, r=8, p=1, 16-byte salt) of any password; the
    policy is the caller's (station passwords above, operator accounts in csms.domain.user)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# --- rotation (1.6 security whitepaper AuthorizationKey; 2.0.1 A01 BasicAuthPassword) ---------

# Letters and digits only: valid in a URL, in HTTP Basic, in any station's configuration store,
# and never a ':' (which would end the Basic user part).
_ALPHABET = string.ascii_letters + string.digits
# 1.6: AuthorizationKey is at most 20 bytes, sent hex-encoded (40 hex digits); 20 ASCII
# characters use all of it (~119 bits). 2.0.1 A01: BasicAuthPassword is up to 40 characters.
ROTATED_LENGTH_16, ROTATED_LENGTH_201 = 20, 40


def generate_password(length: int) -> str:
    """A new station password from the CSMPRNG (`secrets`), within the OCPP length rules."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"a station password has {MIN_LENGTH} to {MAX_LENGTH} characters")
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def authorization_key(password: str) -> str:
    """The 1.6 AuthorizationKey value for `password`: its bytes, hex-encoded.

    1.6 security whitepaper (configuration key AuthorizationKey): "Hexadecimal represented
    (20 bytes maximum, represented as a string of up to 40 hexadecimal characters)"; the
    station puts the decoded (non-hex) form in its HTTP Basic header (OCTT TC_085_CS).
    """
    raw = password.encode()
    if not MIN_LENGTH <= len(raw) <= 20:
        raise ValueError("a 1.6 AuthorizationKey carries 16 to 20 bytes")
    return raw.hex()


class PendingState(StrEnum):
    """Where a rotated password stands while the old one is still valid."""

    SENT = "sent"  # the CALL is on its way: the station has not answered yet
    ACCEPTED = "accepted"  # the station said it will use the new one: both stay valid
    UNCONFIRMED = "unconfirmed"  # no answer (timeout, lost connection): it may have taken it


class Outcome(StrEnum):
    """What one successful handshake means for a pending rotation."""

    KEEP = "keep"  # nothing to change
    RETIRE_OLD = "retire_old"  # the station connected with the new password: it is the only one
    DROP_NEW = "drop_new"  # an unanswered rotation the station evidently did not take


# A rotation still `sent` this long after it began was cut short (the node stopped before the
# station's answer was recorded; a caller waits at most 300 s): nobody will settle it.
SENT_ABANDONED_AFTER = timedelta(minutes=10)


def handshake_outcome(
    used_new: bool, state: PendingState | None, *, abandoned: bool = False
) -> Outcome:
    """Decide what a successful connect does to a pending rotation (issue 16; 1.6J §6.2.2,
    2.0.1 A01: the station reconnects with the new password).

    The first connect with the new password retires the old one. A connect with the old one
    keeps both while the station has accepted the change (it may reboot first) or has not yet
    answered; after a rotation that went unanswered, it shows the station never took the new
    password, which is then dropped: no outcome leaves the station without a valid password.
    A rotation `abandoned` while sent (SENT_ABANDONED_AFTER) counts as unanswered: otherwise it
    would stay pending for ever and refuse every later rotation.
    """
    if state is None:
        return Outcome.KEEP
    if used_new:
        return Outcome.RETIRE_OLD
    if state is PendingState.UNCONFIRMED or (state is PendingState.SENT and abandoned):
        return Outcome.DROP_NEW
    return Outcome.KEEP
