"""Operator accounts over real HTTP against a real CSMS and PostgreSQL: signing in and out, the
cookies, CSRF on cookie writes, idle and absolute expiry (csms.clock moved forward), lockouts,
password changes, the users API, the audit, and `csms users` / `csms keys` on the command line.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from csms.bootstrap import Running, running
from csms.client_address import parse_networks
from csms.clock import running_from, utcnow
from tests.conftest import ADMIN_TOKEN, Api, make_settings

PASSWORD = "a-long-enough-password"
NEW_PASSWORD = "another-long-password"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WRONG = {"error": "unauthorized", "detail": "wrong login or password"}
ENDED = "the session has ended (signed out, expired or idle too long); sign in again"
ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.7"
LOCKOUT = 1.5


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, error: str | None = None) -> Any:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error", "detail"}, body
    if error is not None:
        assert body["error"] == error, body
    return body["detail"]


def base(csms: Running) -> str:
    return f"http://127.0.0.1:{csms.http_port}"


@asynccontextmanager
async def browser(csms: Running) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies, like a browser tab of the console."""
    async with httpx.AsyncClient(base_url=base(csms), timeout=30) as client:
        yield client


async def make_user(api: Api, login: str, role: str = "operator", **extra: Any) -> dict[str, Any]:
    body = {"login": login, "role": role, "password": PASSWORD, **extra}
    user: dict[str, Any] = ok(await api.post("/api/v1/users", role="admin", json=body), 201)
    return user


async def sign_in(
    client: httpx.AsyncClient, login: str, password: str = PASSWORD, **kw: Any
) -> httpx.Response:
    return await client.post("/api/v1/session", json={"login": login, "password": password}, **kw)


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies["csms_csrf"]}


def set_cookies(r: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header by its cookie's name."""
    return {h.split("=", 1)[0]: h for h in r.headers.get_list("set-cookie")}


async def audit_actions(api: Api) -> list[str]:
    rows = ok(await api.get("/api/v1/audit", params={"subject_kind": "user"}))
    return [row["action"] for row in reversed(rows)]


# --- signing in and out ---------------------------------------------------------------------


async def test_sign_in_sets_the_cookies_and_sign_out_ends_the_session(
    api: Api, csms: Running
) -> None:
    user = await make_user(api, "alice", display_name="Alice Zhang")
    assert PASSWORD not in str(user) and "scrypt" not in str(user) and "password" not in user
    async with browser(csms) as tab:
        r = await sign_in(tab, "ALICE")  # logins match whatever their case
        info = ok(r)
        assert info["user"] == {"id": user["id"], "login": "alice", "display_name": "Alice Zhang"}
        assert info["principal"] == f"user:{user['id']}:alice"
        assert (info["role"], info["scope"]) == ("operator", None)
        cookies = set_cookies(r)
        session, token_cookie = cookies["csms_session"], cookies["csms_csrf"]
        for flag in ("HttpOnly", "SameSite=strict", "Path=/"):
            assert flag in session, session
        assert "Secure" not in session  # plain http here (see the lockout test for https)
        assert "HttpOnly" not in token_cookie and "SameSite=strict" in token_cookie
        assert tab.cookies["csms_csrf"] == info["csrf_token"]
        # only a SHA-256 of the session token is stored
        token = tab.cookies["csms_session"]
        assert len(token) >= 43
        stored = await csms.pool.fetchval("SELECT token_hash FROM user_sessions")
        assert stored == hashlib.sha256(token.encode()).hexdigest()

        assert ok(await tab.get("/api/v1/session"))["user"]["login"] == "alice"
        assert ok(await tab.get("/api/v1/stations")) == []  # the cookie authenticates
        # a Bearer key's who-am-I has no user and no CSRF token
        key = ok(await api.client.get("/api/v1/session", headers=ADMIN))
        assert key["user"] is None and key["csrf_token"] is None and key["role"] == "admin"

        refused(await tab.delete("/api/v1/session"), 403, "forbidden")  # no CSRF header
        r = await tab.delete("/api/v1/session", headers=csrf(tab))
        assert r.status_code == 204
        assert all("Max-Age=0" in h or "expires=" in h for h in set_cookies(r).values())
        assert await csms.pool.fetchval("SELECT count(*) FROM user_sessions") == 0
        assert refused(await tab.get("/api/v1/session"), 401) in (
            ENDED,
            "missing bearer API key",  # the client dropped the expired cookie
        )
        replay = await api.client.get(
            "/api/v1/session", headers={"Cookie": f"csms_session={token}"}
        )
        assert refused(replay, 401, "unauthorized") == ENDED
    refused(await api.client.delete("/api/v1/session", headers=ADMIN), 409, "conflict")
    # X-Forwarded-Proto from a peer that is no trusted proxy is not believed
    async with browser(csms) as tab:
        r = await sign_in(tab, "alice", headers={"X-Forwarded-Proto": "https"})
        assert all("Secure" not in h for h in set_cookies(ok_response(r)).values())
    assert await audit_actions(api) == [
        "user.create",
        "user.sign-in",
        "user.sign-out",
        "user.sign-in",
    ]


async def test_wrong_login_wrong_password_and_disabled_answer_alike(
    api: Api, csms: Running
) -> None:
    user = await make_user(api, "bob")
    async with browser(csms) as tab:
        for login, password in (("nobody", PASSWORD), ("bob", "wrong-password-1"), ("bob", "")):
            r = await sign_in(tab, login, password)
            if password:
                assert r.status_code == 401 and r.json() == WRONG
            else:
                refused(r, 422, "invalid_request")
        ok(await api.patch(f"/api/v1/users/{user['id']}", role="admin", json={"disabled": True}))
        r = await sign_in(tab, "bob")
        assert r.status_code == 401 and r.json() == WRONG
        assert "csms_session" not in tab.cookies
    rows = ok(await api.get("/api/v1/audit", params={"subject_kind": "user"}))
    failed = [r for r in rows if r["action"] == "user.sign-in-failed"]
    assert sorted(r["detail"]["reason"] for r in failed) == [
        "disabled account",
        "unknown login",
        "wrong password",
    ]
    # an unknown login is not written down (people type passwords into the login field)
    assert "nobody" not in str(rows)
    assert {r["subject_id"] for r in failed} == {"unknown", str(user["id"])}


# --- CSRF -----------------------------------------------------------------------------------


async def test_cookie_writes_need_the_csrf_token_and_bearer_writes_do_not(
    api: Api, csms: Running
) -> None:
    await make_user(api, "carol")
    async with browser(csms) as tab:
        ok(await sign_in(tab, "carol"))
        token = {"id_token": "CSRF-T"}
        wrong: list[dict[str, str] | dict[bytes, bytes]] = [
            {},
            {"X-CSRF-Token": "not-the-token"},
            {b"X-CSRF-Token": "é".encode("latin-1")},
        ]
        for headers in wrong:
            r = await tab.post("/api/v1/tokens", json=token, headers=headers)
            assert "X-CSRF-Token" in refused(r, 403, "forbidden")
        ok(await tab.post("/api/v1/tokens", json=token, headers=csrf(tab)), 201)
        patch = {"group_id": "G"}
        refused(await tab.patch("/api/v1/tokens/CSRF-T", json=patch), 403)
        ok(await tab.patch("/api/v1/tokens/CSRF-T", json=patch, headers=csrf(tab)))
        ok(await tab.get("/api/v1/tokens/CSRF-T"))  # reads need none
        # another session's token does not do
        async with browser(csms) as other:
            ok(await sign_in(other, "carol"))
            r = await tab.post("/api/v1/tokens/CSRF-T/block", headers=csrf(other))
            refused(r, 403)
    # a Bearer key is never sent by a browser on its own: no CSRF token needed
    ok(await api.post("/api/v1/tokens/CSRF-T/block"))
    # the role still counts for a signed-in account
    await make_user(api, "victor", role="viewer")
    async with browser(csms) as tab:
        ok(await sign_in(tab, "victor"))
        r = await tab.post("/api/v1/tokens", json={"id_token": "V"}, headers=csrf(tab))
        assert refused(r, 403) == "this needs the operator role; the account is viewer"


# --- expiry ---------------------------------------------------------------------------------


async def test_a_session_ends_after_30_idle_minutes(api: Api, csms: Running) -> None:
    await make_user(api, "dave")
    start = utcnow()
    async with browser(csms) as tab:
        ok(await sign_in(tab, "dave"))
        with running_from(start + timedelta(minutes=29)):
            ok(await tab.get("/api/v1/session"))  # active: the idle time starts again
        with running_from(start + timedelta(minutes=58)):
            ok(await tab.get("/api/v1/session"))
        with running_from(start + timedelta(minutes=89)):
            assert refused(await tab.get("/api/v1/session"), 401) == ENDED
        assert await csms.pool.fetchval("SELECT count(*) FROM user_sessions") == 0


async def test_a_session_ends_at_its_absolute_lifetime_however_active(
    database_url: str,
) -> None:
    settings = make_settings(database_url, session_lifetime=3600, session_idle=1800)
    async with running(settings) as csms, browser(csms) as tab:
        ok(await tab.post("/api/v1/users", headers=ADMIN, json=user_body("erin")), 201)
        start = utcnow()
        info = ok(await sign_in(tab, "erin"))
        lifetime = datetime.fromisoformat(info["expires_at"]) - start
        assert abs(lifetime.total_seconds() - 3600) < 5, info
        for minutes in (20, 40, 55):
            with running_from(start + timedelta(minutes=minutes)):
                ok(await tab.get("/api/v1/session"))
        with running_from(start + timedelta(minutes=61)):
            assert refused(await tab.get("/api/v1/session"), 401) == ENDED


def user_body(login: str, role: str = "operator", **extra: Any) -> dict[str, Any]:
    return {"login": login, "role": role, "password": PASSWORD, **extra}


# --- lockouts and https ---------------------------------------------------------------------


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[Running]:
    settings = make_settings(
        database_url,
        auth_failures=3,
        auth_window=30,
        auth_lockout=LOCKOUT,
        trusted_proxies=parse_networks("127.0.0.1"),
    )
    async with running(settings) as csms:
        yield csms


async def test_repeated_failures_lock_the_login_and_the_address(limited: Running) -> None:
    async with browser(limited) as tab:
        for login in ("frank", "grace"):
            ok(await tab.post("/api/v1/users", headers=ADMIN, json=user_body(login)), 201)

        def source(address: str) -> dict[str, str]:
            return {"X-Forwarded-For": address}

        for _ in range(3):
            r = await sign_in(tab, "frank", "wrong-password-9", headers=source(ATTACKER))
            assert r.status_code == 401 and r.json() == WRONG
        # the right password is refused unchecked, from the guessing address ...
        r = await sign_in(tab, "frank", headers=source(ATTACKER))
        assert refused(r, 429, "too_many_requests").startswith("too many failed sign-ins")
        assert 1 <= int(r.headers["Retry-After"]) <= 2
        # ... and for that login from anywhere (a login guessed from many addresses)
        refused(await sign_in(tab, "FRANK", headers=source(ELSEWHERE)), 429)
        # other logins from elsewhere are checked; from the locked address they are not
        ok(await sign_in(tab, "grace", headers=source(ELSEWHERE)))
        refused(await sign_in(tab, "grace", headers=source(ATTACKER)), 429)
        await asyncio.sleep(LOCKOUT + 0.1)
        ok(await sign_in(tab, "frank", headers=source(ELSEWHERE)))


async def test_the_cookies_are_secure_behind_an_https_proxy(limited: Running) -> None:
    async with browser(limited) as tab:
        ok(await tab.post("/api/v1/users", headers=ADMIN, json=user_body("heidi")), 201)
        r = ok_response(await sign_in(tab, "heidi", headers={"X-Forwarded-Proto": "https"}))
        assert all("Secure" in h for h in set_cookies(r).values())
        # (an untrusted peer's X-Forwarded-Proto: see the first test)


def ok_response(r: httpx.Response) -> httpx.Response:
    assert r.status_code == 200, r.text
    return r


# --- password changes -----------------------------------------------------------------------


async def test_a_password_change_ends_the_other_sessions(api: Api, csms: Running) -> None:
    await make_user(api, "ivan")
    async with browser(csms) as first, browser(csms) as second:
        ok(await sign_in(first, "ivan"))
        ok(await sign_in(second, "ivan"))
        path = "/api/v1/session/password"
        body = {"current": "wrong-password-0", "new": NEW_PASSWORD}
        refused(await first.post(path, json=body), 403)  # no CSRF header
        r = await first.post(path, json=body, headers=csrf(first))
        assert refused(r, 403, "forbidden") == "the current password is wrong"
        for bad in (
            {"current": PASSWORD, "new": "short"},
            {"current": PASSWORD, "new": PASSWORD},
            {"current": PASSWORD},
            {"current": PASSWORD, "new": NEW_PASSWORD, "extra": 1},
        ):
            assert (await first.post(path, json=bad, headers=csrf(first))).status_code == 422
        r = await first.post(path, json={"current": PASSWORD, "new": NEW_PASSWORD}, **h(first))
        assert ok(r) == {"sessions_ended": 1}
        assert refused(await second.get("/api/v1/session"), 401) == ENDED
        ok(await first.get("/api/v1/session"))
    async with browser(csms) as tab:
        assert (await sign_in(tab, "ivan")).status_code == 401
        ok(await sign_in(tab, "ivan", NEW_PASSWORD))
    r = await api.post(path, json={"current": PASSWORD, "new": NEW_PASSWORD})
    refused(r, 409, "conflict")  # a Bearer key has no password to change
    actions = await audit_actions(api)
    assert actions.count("user.password-change") == 1
    assert actions.count("user.sign-in-failed") == 2
    assert NEW_PASSWORD not in str(
        ok(await api.get("/api/v1/audit", params={"subject_kind": "user"}))
    )


def h(client: httpx.AsyncClient) -> dict[str, Any]:
    return {"headers": csrf(client)}


# --- the users API --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"login": "ok1", "role": "viewer", "password": "short"},
        {"login": "ok1", "role": "viewer"},
        {"login": "has space", "role": "viewer", "password": PASSWORD},
        {"login": "", "role": "viewer", "password": PASSWORD},
        {"login": "x" * 65, "role": "viewer", "password": PASSWORD},
        {"login": "ok1", "role": "root", "password": PASSWORD},
        {"login": "ok1", "role": "viewer", "password": PASSWORD, "admin": True},
        {"login": "ok1", "role": "viewer", "password": PASSWORD, "scope": {}},
        {"login": "ok1", "role": "viewer", "password": PASSWORD, "scope": {"counties": []}},
        {"login": "ok1", "role": "viewer", "password": PASSWORD, "scope": {"counties": [""]}},
        {
            "login": "ok1",
            "role": "viewer",
            "password": PASSWORD,
            "scope": {"counties": ["朔城区"], "owner_unit": "U"},
        },
        {"login": "ok1", "role": "viewer", "password": "\u0000" * 12},
        {"login": "ok1", "role": "viewer", "password": PASSWORD, "display_name": ""},
    ],
)
async def test_creating_a_user_refuses_bad_input(api: Api, body: dict[str, Any]) -> None:
    refused(await api.post("/api/v1/users", role="admin", json=body), 422, "invalid_request")
    assert ok(await api.get("/api/v1/users", role="admin")) == []


async def test_the_users_api(api: Api, csms: Running) -> None:
    user = await make_user(api, "judy", role="viewer")
    r = await api.post("/api/v1/users", role="admin", json=user_body("JUDY"))
    assert "taken" in refused(r, 409, "conflict")
    listed = ok(await api.get("/api/v1/users", role="admin"))
    assert [u["login"] for u in listed] == ["judy"]
    assert "scrypt" not in str(listed) and "password_hash" not in str(listed)
    for path in ("/api/v1/users/4242", "/api/v1/users/0", "/api/v1/users/-1"):
        refused(await api.get(path, role="admin"), 404, "not_found")
        refused(await api.patch(path, role="admin", json={"role": "admin"}), 404)
        refused(await api.delete(path, role="admin"), 404)
    uid = user["id"]
    path = f"/api/v1/users/{uid}"
    for bad in (
        {"role": None},
        {"disabled": None},
        {"role": "root"},
        {"password": "short"},
        {"login": "renamed"},
        {"scope": {"owner_unit": ""}},
    ):
        refused(await api.patch(path, role="admin", json=bad), 422, "invalid_request")

    async with browser(csms) as tab:
        ok(await sign_in(tab, "judy"))
        scope = {"counties": ["平鲁区", "朔城区"]}
        changed = ok(
            await api.patch(
                path,
                role="admin",
                json={"role": "operator", "scope": scope, "display_name": "Judy"},
            )
        )
        assert changed["role"] == "operator" and changed["display_name"] == "Judy"
        assert changed["scope"] == {"counties": ["平鲁区", "朔城区"], "owner_unit": None}
        # the new role and scope hold from the session's next request
        me = ok(await tab.get("/api/v1/session"))
        assert (me["role"], me["scope"]) == ("operator", changed["scope"])
        refused(await tab.get("/api/v1/tokens"), 403)  # scoped now
        back = ok(await api.patch(path, role="admin", json={"scope": None, "display_name": None}))
        assert back["scope"] is None and back["display_name"] is None
        ok(await tab.get("/api/v1/tokens"))
        # disabling ends the sessions, enabling lets the user sign in again
        assert ok(await api.patch(path, role="admin", json={"disabled": True}))["disabled"]
        assert refused(await tab.get("/api/v1/session"), 401) == ENDED
        assert (
            ok(await api.patch(path, role="admin", json={"disabled": False}))["disabled"] is False
        )
        ok(await sign_in(tab, "judy"))
        # an admin's password reset ends the sessions too
        ok(await api.patch(path, role="admin", json={"password": NEW_PASSWORD}))
        assert refused(await tab.get("/api/v1/session"), 401) == ENDED
        assert (await sign_in(tab, "judy")).status_code == 401
        ok(await sign_in(tab, "judy", NEW_PASSWORD))
    assert (await api.delete(path, role="admin")).status_code == 204
    refused(await api.get(path, role="admin"), 404)
    assert await csms.pool.fetchval("SELECT count(*) FROM user_sessions") == 0
    actions = await audit_actions(api)
    assert actions[0] == "user.create" and actions[-1] == "user.delete"
    assert actions.count("user.update") == 5
    assert NEW_PASSWORD not in str(ok(await api.get("/api/v1/audit")))


async def test_only_whole_network_admins_manage_users(api: Api, csms: Running) -> None:
    for role in ("viewer", "operator"):
        r = await api.get("/api/v1/users", role=role)
        assert refused(r, 403) == f"this needs the admin role; the key is {role}"
    scoped = ok(
        await api.post(
            "/api/v1/keys",
            role="admin",
            json={"name": "county admin", "role": "admin", "scope": {"counties": ["朔城区"]}},
        ),
        201,
    )
    assert scoped["scope"] == {"counties": ["朔城区"], "owner_unit": None}
    r = await api.client.get("/api/v1/users", headers={"Authorization": f"Bearer {scoped['key']}"})
    assert refused(r, 403) == "this needs a whole-network account"
    # a signed-in admin manages others, never its own account away
    admin = await make_user(api, "root", role="admin")
    other = await make_user(api, "kim", role="viewer")
    async with browser(csms) as tab:
        ok(await sign_in(tab, "root"))
        own = f"/api/v1/users/{admin['id']}"
        r = await tab.patch(own, json={"disabled": True}, headers=csrf(tab))
        assert "your own" in refused(r, 409, "conflict")
        assert "your own" in refused(await tab.delete(own, headers=csrf(tab)), 409)
        r = await tab.patch(f"/api/v1/users/{other['id']}", json={"role": "operator"}, **h(tab))
        assert ok(r)["role"] == "operator"
    rows = ok(await api.get("/api/v1/audit", params={"subject_kind": "user"}))
    update = next(r for r in rows if r["action"] == "user.update")
    assert update["actor"] == f"user:{admin['id']}:root"
    assert update["detail"]["role"] == "operator"


# --- the command line -----------------------------------------------------------------------


async def cli(url: str, *args: str, stdin: str = "") -> tuple[int, str]:
    """`python -m csms ...` to the end; stdin is closed after `stdin` is written."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "csms",
        *args,
        "--database-url",
        url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    return proc.returncode or 0, out.decode()


async def test_the_command_line_makes_the_first_admin_and_scoped_keys(database_url: str) -> None:
    create = ("users", "create", "--login", "root", "--role", "admin", "--password-stdin")
    code, out = await cli(database_url, *create, stdin=PASSWORD + "\n")
    assert code == 0 and "root" in out and "whole network" in out, out
    assert PASSWORD not in out
    code, out = await cli(database_url, *create, stdin=PASSWORD + "\n")
    assert code == 1 and "taken" in out
    code, out = await cli(database_url, *create[:4], "--role", "viewer", "--password-stdin")
    assert code == 1  # empty stdin: too short a password
    code, out = await cli(
        database_url,
        "users",
        "create",
        "--login",
        "county",
        "--role",
        "viewer",
        "--counties",
        "朔城区, 平鲁区",
        "--password-stdin",
        stdin="short\n",
    )
    assert code == 1 and "10..1024" in out
    code, out = await cli(
        database_url,
        "users",
        "create",
        "--login",
        "county",
        "--role",
        "viewer",
        "--counties",
        "朔城区, 平鲁区",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0 and "counties 平鲁区, 朔城区" in out, out
    code, out = await cli(
        database_url, *create[:4], "--role", "viewer", "--counties", "A", "--owner-unit", "U"
    )
    assert code == 2 and "not allowed with" in out
    code, out = await cli(database_url, "users", "list")
    assert code == 0 and "root" in out and "counties 平鲁区, 朔城区" in out
    assert "scrypt" not in out

    code, out = await cli(
        database_url, "keys", "create", "--role", "viewer", "--name", "shuo", "--counties", "朔城区"
    )
    assert code == 0 and "counties 朔城区" in out
    key = next(word for word in out.split() if word.startswith("csms_"))
    code, out = await cli(database_url, "keys", "list")
    assert "counties 朔城区" in out and key not in out

    async with running(make_settings(database_url)) as csms, browser(csms) as tab:
        assert ok(await sign_in(tab, "root"))["role"] == "admin"
        ok(await tab.get("/api/v1/users"))
        scoped = {"Authorization": f"Bearer {key}"}
        ok(await tab.get("/api/v1/stations", headers=scoped))
        r = await tab.get("/api/v1/tokens", headers=scoped)
        assert refused(r, 403) == "this needs a whole-network account"
        actions = ok(await tab.get("/api/v1/audit", params={"subject_kind": "user"}, headers=ADMIN))
    assert [(a["actor"], a["action"]) for a in reversed(actions)][:2] == [
        ("cli", "user.create"),
        ("cli", "user.create"),
    ]
