"""Operator accounts and their sessions; every change, sign-in and sign-out is audited in the
same transaction as the change itself (subject kind `user`, subject id the account's id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from csms.domain.scope import Scope, scope_columns, scope_json
from csms.errors import Conflict, NotFound
from csms.store import audit
from csms.store.database import Pool

_COLUMNS = """id, login, display_name, role, scope_counties, scope_owner_unit, disabled_at,
    created_at, password_changed_at"""


@dataclass(frozen=True, slots=True)
class SessionUser:
    """A live session and the account it signs in, as read at this request."""

    session_id: int
    user_id: int
    login: str
    display_name: str | None
    role: str
    scope: Scope | None
    csrf_token: str
    expires_at: datetime


class _Unchanged:
    """PATCH leaves the field as it is (None is a value: no display name, no scope)."""


UNCHANGED: Any = _Unchanged()


def _user(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["scope"] = Scope.of(out.pop("scope_counties"), out.pop("scope_owner_unit"))
    out["disabled"] = out["disabled_at"] is not None
    return out


class UserStore:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    # --- accounts ---------------------------------------------------------------------------

    async def create(
        self,
        *,
        login: str,
        display_name: str | None,
        role: str,
        password_hash: str,
        scope: Scope | None,
        by: str,
        at: datetime,
    ) -> dict[str, Any]:
        """A new account; Conflict when the login is taken (in any case)."""
        counties, owner_unit = scope_columns(scope)
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                row = await conn.fetchrow(
                    f"""INSERT INTO users (login, display_name, role, password_hash,
                            scope_counties, scope_owner_unit, created_at, password_changed_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {_COLUMNS}""",
                    login,
                    display_name,
                    role,
                    password_hash,
                    counties,
                    owner_unit,
                    at,
                )
            except asyncpg.UniqueViolationError:
                raise Conflict(f"the login {login!r} is taken") from None
            assert row is not None  # INSERT ... RETURNING always returns the row
            user = _user(row)
            await audit.record(
                conn,
                at=at,
                actor=by,
                action="user.create",
                subject_kind="user",
                subject_id=str(user["id"]),
                detail={
                    "login": login,
                    "display_name": display_name,
                    "role": role,
                    "scope": scope_json(scope),
                },
            )
        return user

    async def all(self) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM users ORDER BY id")
        return [_user(r) for r in rows]

    async def get(self, user_id: int) -> dict[str, Any] | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
        return None if row is None else _user(row)

    async def update(
        self,
        user_id: int,
        *,
        role: str | None = None,
        display_name: str | None = UNCHANGED,
        scope: Scope | None = UNCHANGED,
        disabled: bool | None = None,
        password_hash: str | None = None,
        by: str,
        at: datetime,
    ) -> dict[str, Any]:
        """Change an account (an admin's PATCH). Disabling it or resetting its password ends
        its sessions; a new role or scope applies to them from their next request."""
        async with self._pool.acquire() as conn, conn.transaction():
            before = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM users WHERE id = $1 FOR UPDATE", user_id
            )
            if before is None:
                raise NotFound(f"user {user_id} does not exist")
            old = _user(before)
            changes: dict[str, Any] = {}
            if role is not None and role != old["role"]:
                changes["role"] = role
            if display_name is not UNCHANGED and display_name != old["display_name"]:
                changes["display_name"] = display_name
            if scope is not UNCHANGED and scope != old["scope"]:
                changes["scope"] = scope_json(scope)
            if disabled is not None and disabled != old["disabled"]:
                changes["disabled"] = disabled
            if password_hash is not None:
                changes["password_reset"] = True
            counties, owner_unit = scope_columns(old["scope"] if scope is UNCHANGED else scope)
            row = await conn.fetchrow(
                f"""UPDATE users SET role = $2, display_name = $3, scope_counties = $4,
                        scope_owner_unit = $5,
                        disabled_at = CASE WHEN $6::boolean IS NULL THEN disabled_at
                                           WHEN $6 THEN COALESCE(disabled_at, $8)
                                           ELSE NULL END,
                        password_hash = COALESCE($7, password_hash),
                        password_changed_at = CASE WHEN $7::text IS NULL
                                                   THEN password_changed_at ELSE $8 END
                    WHERE id = $1 RETURNING {_COLUMNS}""",
                user_id,
                changes.get("role", old["role"]),
                old["display_name"] if display_name is UNCHANGED else display_name,
                counties,
                owner_unit,
                disabled,
                password_hash,
                at,
            )
            ended = 0
            if changes.get("disabled") is True or password_hash is not None:
                ended = await self._end_sessions(conn, user_id)
            if changes:
                await audit.record(
                    conn,
                    at=at,
                    actor=by,
                    action="user.update",
                    subject_kind="user",
                    subject_id=str(user_id),
                    detail={"login": old["login"], **changes, "sessions_ended": ended},
                )
        return _user(row)

    async def delete(self, user_id: int, *, by: str, at: datetime) -> None:
        """Delete the account and its sessions (the audit keeps its history)."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "DELETE FROM users WHERE id = $1 RETURNING login, role", user_id
            )
            if row is None:
                raise NotFound(f"user {user_id} does not exist")
            await audit.record(
                conn,
                at=at,
                actor=by,
                action="user.delete",
                subject_kind="user",
                subject_id=str(user_id),
                detail={"login": row["login"], "role": row["role"]},
            )

    # --- signing in -------------------------------------------------------------------------

    async def for_sign_in(self, login: str) -> dict[str, Any] | None:
        """id, login, password hash and whether disabled, of the account with this login in
        any case; None when there is none."""
        row = await self._pool.fetchrow(
            """SELECT id, login, password_hash, disabled_at IS NOT NULL AS disabled
               FROM users WHERE lower(login) = lower($1)""",
            login,
        )
        return None if row is None else dict(row)

    async def password_hash(self, user_id: int) -> str | None:
        found: str | None = await self._pool.fetchval(
            "SELECT password_hash FROM users WHERE id = $1", user_id
        )
        return found

    async def failed_sign_in(
        self, user_id: int | None, *, source: str | None, reason: str, at: datetime
    ) -> None:
        """Audit a refused sign-in or password change. An unknown login is not written down:
        people type passwords into the login field."""
        async with self._pool.acquire() as conn:
            await audit.record(
                conn,
                at=at,
                actor=f"address:{source or 'unknown'}",
                action="user.sign-in-failed",
                subject_kind="user",
                subject_id=str(user_id) if user_id is not None else "unknown",
                detail={"source": source, "reason": reason},
            )

    async def start_session(
        self,
        user_id: int,
        *,
        token_hash: str,
        csrf_token: str,
        source: str | None,
        at: datetime,
        lifetime: timedelta,
        idle: timedelta,
    ) -> SessionUser:
        """A session for a checked password, audited as a sign-in; sessions past their end
        (anyone's) are cleared on the way."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM user_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                at,
                at - idle,
            )
            row = await conn.fetchrow(
                """INSERT INTO user_sessions (token_hash, user_id, csrf_token, source,
                       created_at, last_seen_at, expires_at)
                   VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id""",
                token_hash,
                user_id,
                csrf_token,
                source,
                at,
                at + lifetime,
            )
            assert row is not None
            user = await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
            if user is None:  # deleted between the password check and now
                raise NotFound(f"user {user_id} does not exist")
            await audit.record(
                conn,
                at=at,
                actor=f"user:{user_id}:{user['login']}",
                action="user.sign-in",
                subject_kind="user",
                subject_id=str(user_id),
                detail={"source": source, "session": row["id"]},
            )
        account = _user(user)
        return SessionUser(
            session_id=row["id"],
            user_id=user_id,
            login=account["login"],
            display_name=account["display_name"],
            role=account["role"],
            scope=account["scope"],
            csrf_token=csrf_token,
            expires_at=at + lifetime,
        )

    async def session(
        self, token_hash: str, *, at: datetime, idle: timedelta, touch: bool = True
    ) -> SessionUser | None:
        """The live session with this token hash, marked as seen now (unless not `touch`: a
        check that is no activity of the user's); None when there is none, it ended (absolute
        or idle) or its account is disabled. An ended one is deleted."""
        live = """s.token_hash = $1 AND u.id = s.user_id AND u.disabled_at IS NULL
                 AND s.expires_at > $2 AND s.last_seen_at > $2::timestamptz - $3::interval"""
        columns = """s.id, s.csrf_token, s.expires_at, u.id AS user_id, u.login,
                         u.display_name, u.role, u.scope_counties, u.scope_owner_unit"""
        statement = (
            f"UPDATE user_sessions s SET last_seen_at = $2 FROM users u WHERE {live}"
            f" RETURNING {columns}"
            if touch
            else f"SELECT {columns} FROM user_sessions s, users u WHERE {live}"
        )
        row = await self._pool.fetchrow(statement, token_hash, at, idle)
        if row is None:
            await self._pool.execute("DELETE FROM user_sessions WHERE token_hash = $1", token_hash)
            return None
        return SessionUser(
            session_id=row["id"],
            user_id=row["user_id"],
            login=row["login"],
            display_name=row["display_name"],
            role=row["role"],
            scope=Scope.of(row["scope_counties"], row["scope_owner_unit"]),
            csrf_token=row["csrf_token"],
            expires_at=row["expires_at"],
        )

    async def end_session(self, session: SessionUser, *, at: datetime) -> None:
        """Sign out: the session row goes, the audit keeps the sign-out."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM user_sessions WHERE id = $1", session.session_id)
            await audit.record(
                conn,
                at=at,
                actor=f"user:{session.user_id}:{session.login}",
                action="user.sign-out",
                subject_kind="user",
                subject_id=str(session.user_id),
                detail={"session": session.session_id},
            )

    async def change_password(
        self, session: SessionUser, password_hash: str, *, at: datetime
    ) -> int:
        """The account's own new password; its other sessions end (this one stays). Returns
        how many ended."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE users SET password_hash = $2, password_changed_at = $3
                   WHERE id = $1""",
                session.user_id,
                password_hash,
                at,
            )
            ended = await self._end_sessions(conn, session.user_id, keep=session.session_id)
            await audit.record(
                conn,
                at=at,
                actor=f"user:{session.user_id}:{session.login}",
                action="user.password-change",
                subject_kind="user",
                subject_id=str(session.user_id),
                detail={"sessions_ended": ended},
            )
        return ended

    @staticmethod
    async def _end_sessions(conn: audit.Connection, user_id: int, keep: int | None = None) -> int:
        status: str = await conn.execute(
            "DELETE FROM user_sessions WHERE user_id = $1 AND ($2::bigint IS NULL OR id <> $2)",
            user_id,
            keep,
        )
        return int(status.split()[-1])
