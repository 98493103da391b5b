"""Request and answer bodies of operator accounts, sign-in and scopes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from csms.api.schemas import ScopeBody, ScopeOut, Strict
from csms.domain.user import (
    LOGIN_PATTERN,
    MAX_LOGIN_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    password_problem,
)

RoleName = Literal["admin", "operator", "viewer"]
Login = Annotated[str, Field(min_length=1, max_length=MAX_LOGIN_LENGTH, pattern=LOGIN_PATTERN)]
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description=f"{MIN_PASSWORD_LENGTH}..{MAX_PASSWORD_LENGTH} characters; never shown again",
    ),
]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]


def _valid_password(value: str | None) -> str | None:
    problem = None if value is None else password_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class UserCreate(Strict):
    login: Login
    display_name: DisplayName | None = None
    role: RoleName
    password: NewPassword
    scope: ScopeBody | None = Field(default=None, description="null: the whole network")

    @field_validator("password")
    @classmethod
    def _policy(cls, value: str) -> str | None:
        return _valid_password(value)


class UserUpdate(Strict):
    """Only the fields given change; `scope: null` makes the account whole-network."""

    role: RoleName | None = None
    display_name: DisplayName | None = None
    scope: ScopeBody | None = None
    disabled: bool | None = Field(default=None, description="true ends the user's sessions")
    password: NewPassword | None = Field(
        default=None, description="an admin's reset; ends the user's sessions"
    )

    @field_validator("password")
    @classmethod
    def _policy(cls, value: str | None) -> str | None:
        return _valid_password(value)

    @field_validator("role", "disabled")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class User(BaseModel):
    id: int
    login: str
    display_name: str | None = None
    role: str
    scope: ScopeOut | None = None
    disabled: bool
    disabled_at: datetime | None = None
    created_at: datetime
    password_changed_at: datetime


class SignIn(Strict):
    login: str = Field(min_length=1, max_length=MAX_LOGIN_LENGTH)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class PasswordChange(Strict):
    current: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new: NewPassword

    @field_validator("new")
    @classmethod
    def _policy(cls, value: str) -> str | None:
        return _valid_password(value)


class UserRef(BaseModel):
    id: int
    login: str
    display_name: str | None = None


class SessionInfo(BaseModel):
    """Who is asking: a signed-in account (user set) or an API key (user null)."""

    user: UserRef | None
    principal: str = Field(description="the name the audit and command log use")
    role: str
    scope: ScopeOut | None = Field(description="null: the whole network")
    csrf_token: str | None = Field(
        description="send it as X-CSRF-Token with every write; null for an API key"
    )
    expires_at: datetime | None = Field(description="the session's absolute end")
