"""CSMS_ADMIN_TOKEN: a placeholder or a short token stops `csms serve` before anything starts."""

from __future__ import annotations

import pytest

from csms.config import settings_from
from csms.domain.api_key import admin_token_problem, new_key
from csms.errors import ConfigError
from csms.startup_errors import explain


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("change-me-admin-token", "placeholder"),  # the old compose file's default
        ("CHANGEME-0123456789abcdef", "placeholder"),
        ("replace-me-with-a-real-token", "placeholder"),
        ("admin", "5 characters"),
        ("0123456789abcde", "15 characters"),
        ("aaaaaaaaaaaaaaaaaaaaaaaa", "too few characters"),
        ("abababababababababababab", "too few characters"),
    ],
)
def test_weak_admin_tokens_are_named(token: str, why: str) -> None:
    problem = admin_token_problem(token)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    "token",
    [
        "test-admin-token-0123456789",
        "0123456789abcdef",  # 16 characters: the shortest accepted
        "3f9c2b7e1d4a5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8",  # openssl rand -hex 32
    ],
)
def test_real_tokens_pass(token: str) -> None:
    assert admin_token_problem(token) is None


def test_generated_keys_would_pass() -> None:
    assert all(admin_token_problem(new_key()) is None for _ in range(20))


def test_settings_refuse_a_weak_token_and_say_how_to_make_one() -> None:
    with pytest.raises(ConfigError, match=r"CSMS_ADMIN_TOKEN is a placeholder.*openssl rand"):
        settings_from(env={"CSMS_ADMIN_TOKEN": "change-me-admin-token"})
    assert settings_from(env={}).admin_token is None  # unset: a key is generated at start
    strong = "3f9c2b7e1d4a5f60718293a4b5c6d7e8"
    assert settings_from(env={"CSMS_ADMIN_TOKEN": strong}).admin_token == strong


def test_a_config_error_raised_while_starting_is_one_line() -> None:
    failure = ExceptionGroup("start", [ConfigError("cannot load --tls-cert x: No such file")])
    assert explain(failure, "db") == "cannot load --tls-cert x: No such file"
