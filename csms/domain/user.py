"""Operator accounts: login rules, password policy and hashing, session tokens.

Passwords are hashed with scrypt (csms.domain.password: n=2**14, r=8, p=1, 16-byte salt, a
self-describing string) because people choose them; session tokens are 256 random bits, so a
plain SHA-256 of them is stored, as for API keys.
"""

from __future__ import annotations

import functools
import re
import secrets

from csms.domain.password import scrypt_hash, verify_password
from csms.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10
# scrypt reads the whole password once; a cap keeps a request from making it read megabytes
MAX_PASSWORD_LENGTH = 1024
MAX_LOGIN_LENGTH = 64
LOGIN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
_LOGIN = re.compile(LOGIN_PATTERN)


def login_problem(login: str) -> str | None:
    """Why `login` cannot name an account, or None."""
    if not 1 <= len(login) <= MAX_LOGIN_LENGTH or not _LOGIN.match(login):
        return (
            f"a login has 1..{MAX_LOGIN_LENGTH} characters: letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
    return None


def login_key(login: str) -> str:
    """What logins are compared by: they are unique whatever their case."""
    return login.lower()


def password_problem(password: str) -> str | None:
    """Why `password` may not be an account's password, or None."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return f"a password has {MIN_PASSWORD_LENGTH}..{MAX_PASSWORD_LENGTH} characters"
    try:
        password.encode()
    except UnicodeEncodeError:
        return "a password must be valid Unicode text"
    return None


def hash_user_password(password: str) -> str:
    """The stored form of a new password; InvalidInput when the policy refuses it."""
    problem = password_problem(password)
    if problem is not None:
        raise InvalidInput(problem)
    return scrypt_hash(password)


def check_user_password(password: str, stored: str | None) -> bool:
    """Constant-time check; with no stored hash (unknown login) a hash is still computed, so
    a wrong login takes as long as a wrong password."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    if stored is None:
        verify_password(password, _decoy())
        return False
    return verify_password(password, stored)


@functools.cache
def _decoy() -> str:
    return scrypt_hash(secrets.token_urlsafe(16))


def new_session_token() -> str:
    """256 random bits for the session cookie."""
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)
