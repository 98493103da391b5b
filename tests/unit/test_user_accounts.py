"""Operator accounts: password hashing (scrypt, self-describing, constant-time check), the
password and login rules, session settings, and the per-account sign-in limit."""

from __future__ import annotations

import base64
import hashlib

import pytest

from csms.config import Settings, settings_from
from csms.domain.user import (
    MIN_PASSWORD_LENGTH,
    check_user_password,
    hash_user_password,
    login_key,
    login_problem,
    new_csrf_token,
    new_session_token,
    password_problem,
)
from csms.errors import ConfigError, InvalidInput
from csms.services.auth_limits import AuthLimits, Kind
from csms.services.failure_limiter import Limit

PASSWORD = "correct horse battery"


def test_a_hash_is_scrypt_described_in_itself_and_salted() -> None:
    first, second = hash_user_password(PASSWORD), hash_user_password(PASSWORD)
    assert first != second  # a fresh 16-byte salt each time
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(base64.b64decode(salt)) == 16
    expected = hashlib.scrypt(PASSWORD.encode(), salt=base64.b64decode(salt), n=2**14, r=8, p=1)
    assert base64.b64decode(digest) == expected
    assert PASSWORD not in first


def test_the_check_takes_the_right_password_only() -> None:
    stored = hash_user_password(PASSWORD)
    assert check_user_password(PASSWORD, stored)
    assert not check_user_password(PASSWORD + " ", stored)
    assert not check_user_password(PASSWORD.upper(), stored)
    assert not check_user_password(PASSWORD, "not-a-hash")
    assert not check_user_password(PASSWORD, "bcrypt$1$2$3$4$5")
    # no stored hash (unknown login): still False, after hashing a decoy like a real check
    assert not check_user_password(PASSWORD, None)
    assert not check_user_password("x" * 5000, stored)


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("a" * (MIN_PASSWORD_LENGTH - 1), False),
        ("a" * MIN_PASSWORD_LENGTH, True),
        ("密码" * 5, True),
        ("a" * 1024, True),
        ("a" * 1025, False),
        ("\ud800" + "a" * 12, False),  # a lone surrogate cannot be encoded
    ],
)
def test_the_password_policy(password: str, ok: bool) -> None:
    assert (password_problem(password) is None) is ok
    if not ok:
        with pytest.raises(InvalidInput):
            hash_user_password(password)


@pytest.mark.parametrize(
    ("login", "ok"),
    [
        ("alice", True),
        ("Alice.Zhang@city", True),
        ("ops-1_night", True),
        ("", False),
        ("-alice", False),
        ("a b", False),
        ("张三", False),
        ("a" * 64, True),
        ("a" * 65, False),
    ],
)
def test_the_login_rules(login: str, ok: bool) -> None:
    assert (login_problem(login) is None) is ok


def test_logins_compare_whatever_their_case() -> None:
    assert login_key("Alice") == login_key("ALICE") == "alice"


def test_tokens_are_256_random_bits() -> None:
    tokens = {new_session_token() for _ in range(100)} | {new_csrf_token() for _ in range(100)}
    assert len(tokens) == 200
    assert all(len(base64.urlsafe_b64decode(t + "=")) == 32 for t in tokens)


def test_session_settings_default_to_12_hours_and_30_minutes() -> None:
    settings = settings_from(env={})
    assert (settings.session_lifetime, settings.session_idle) == (43200, 1800)
    custom = settings_from(env={"CSMS_SESSION_LIFETIME": "3600", "CSMS_SESSION_IDLE": "600"})
    assert (custom.session_lifetime, custom.session_idle) == (3600, 600)
    for lifetime, idle in ((600, 1200), (3600, 30), (float("nan"), 600)):
        with pytest.raises(ConfigError):
            Settings(session_lifetime=lifetime, session_idle=idle)


def test_an_account_locks_from_every_address_and_an_address_for_every_account() -> None:
    now = [0.0]
    limits = AuthLimits(
        Kind.SIGN_IN,
        per_source=Limit(5, 60, 300),
        per_account=Limit(3, 60, 300),
        clock=lambda: now[0],
    )
    for source in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):  # three addresses, one account
        assert limits.retry_after(source, account="alice") == 0
        limits.failed(source, account="alice")
    assert limits.retry_after("198.51.100.9", account="alice") == 300
    assert limits.retry_after("198.51.100.9", account="bob") == 0
    for account in ("c1", "c2", "c3", "c4", "c5"):  # one address, many accounts
        limits.failed("192.0.2.7", account=account)
    assert limits.retry_after("192.0.2.7", account="bob") == 300
    # a success forgets the account's failures, not the address's
    limits.failed("192.0.2.8", account="bob")
    limits.failed("192.0.2.8", account="bob")
    limits.succeeded("192.0.2.8", account="bob")
    limits.failed("192.0.2.8", account="bob")
    assert limits.retry_after("192.0.2.9", account="bob") == 0
    now[0] = 301
    assert limits.retry_after("198.51.100.9", account="alice") == 0
