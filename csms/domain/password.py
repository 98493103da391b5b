"""Station passwords (security profiles 1 and 2): scrypt hashes, never the password itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

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
