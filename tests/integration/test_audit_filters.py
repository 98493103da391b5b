"""The operator audit over real HTTP and PostgreSQL: every change to an id token made through the
API (create, update, block, unblock, delete, re-create) is recorded with its actor, and
GET /api/v1/audit filters by actor (as recorded, or a login or key name) and by time, refusing
bad times with 422."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from csms.bootstrap import Running
from tests.conftest import Api

AUDIT = "/api/v1/audit"
PASSWORD = "a-long-enough-password"


def ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def refused(r: httpx.Response, status: int = 422) -> str:
    assert r.status_code == status, r.text
    detail: str = str(r.json()["detail"])
    return detail


async def audit(api: Api, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await api.get(AUDIT, params={"limit": 1000, **params}))
    return rows


async def operator_key_actor(api: Api) -> str:
    """How the audit names the fixture's operator key: key:<id>:test operator."""
    keys = ok(await api.get("/api/v1/keys", role="admin"))
    [key_id] = [k["id"] for k in keys if k["name"] == "test operator"]
    return f"key:{key_id}:test operator"


async def test_every_token_change_is_audited_with_its_actor(api: Api) -> None:
    body = {"id_token": "AUD-1", "group_id": "FLEET", "note": "new card"}
    ok(await api.post("/api/v1/tokens", json=body))
    ok(await api.patch("/api/v1/tokens/AUD-1", json={"clear_group": True, "note": "regrouped"}))
    ok(await api.post("/api/v1/tokens/AUD-1/block"))
    ok(await api.post("/api/v1/tokens/AUD-1/unblock"))
    ok(await api.delete("/api/v1/tokens/AUD-1", role="operator"))
    ok(await api.post("/api/v1/tokens", json={"id_token": "AUD-1"}))  # re-created
    rows = await audit(api, subject_kind="token", subject_id="AUD-1")
    actor = await operator_key_actor(api)
    assert [(r["action"], r["actor"]) for r in reversed(rows)] == [
        ("token.create", actor),
        ("token.update", actor),
        ("token.block", actor),
        ("token.unblock", actor),
        ("token.delete", actor),
        ("token.recreate", actor),
    ]
    created, updated = rows[-1]["detail"], rows[-2]["detail"]
    assert created["group_id"] == "FLEET" and created["note"] == "new card"
    assert created["blocked"] is False
    assert updated["group_id"] is None and updated["note"] == "regrouped"
    # a refused change leaves no entry
    refused(await api.post("/api/v1/tokens", json={"id_token": "AUD-1"}), 409)
    refused(await api.post("/api/v1/tokens/NO-SUCH/block"), 404)
    assert len(await audit(api, subject_kind="token")) == 6


async def test_the_actor_filter(api: Api, csms: Running) -> None:
    user = {"login": "tok-op", "role": "operator", "password": PASSWORD}
    ok(await api.post("/api/v1/users", role="admin", json=user))
    base = f"http://127.0.0.1:{csms.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as tab:
        signed = ok(
            await tab.post("/api/v1/session", json={"login": "tok-op", "password": PASSWORD})
        )
        csrf = {"X-CSRF-Token": signed["csrf_token"]}
        ok(await tab.post("/api/v1/tokens", json={"id_token": "BY-USER"}, headers=csrf))
    ok(await api.post("/api/v1/tokens", json={"id_token": "BY-KEY"}))
    key_actor = await operator_key_actor(api)
    user_actor = f"user:{signed['user']['id']}:tok-op"

    def subjects(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((r["action"], r["subject_id"]) for r in rows if r["subject_kind"] == "token")

    # by the actor as recorded, or by the login or key name in it
    for name in ("tok-op", user_actor):
        rows = await audit(api, actor=name)
        assert {r["actor"] for r in rows} == {user_actor}, rows
        assert subjects(rows) == [("token.create", "BY-USER")]
    for name in ("test operator", key_actor):
        assert subjects(await audit(api, actor=name)) == [("token.create", "BY-KEY")]
    # no partial matches: a prefix of a name, or of the recorded form, is another actor
    for name in ("tok", "user:", f"user:{signed['user']['id']}", "test"):
        assert await audit(api, actor=name) == [], name
    # the sign-in is the user's too, and the user's creation was the bootstrap admin's
    assert "user.sign-in" in {r["action"] for r in await audit(api, actor="tok-op")}
    created = await audit(api, actor="bootstrap-admin", subject_kind="user")
    assert [r["action"] for r in created] == ["user.create"]


async def test_the_time_filters(api: Api) -> None:
    for token in ("T-1", "T-2", "T-3"):
        ok(await api.post("/api/v1/tokens", json={"id_token": token}))
    rows = list(reversed(await audit(api, subject_kind="token")))
    assert [r["subject_id"] for r in rows] == ["T-1", "T-2", "T-3"]
    moments = [datetime.fromisoformat(r["at"]) for r in rows]
    middle = moments[1]

    def ids(found: list[dict[str, Any]]) -> list[str]:
        return sorted(r["subject_id"] for r in found)

    at_or_after = [r["subject_id"] for r, m in zip(rows, moments, strict=True) if m >= middle]
    before = [r["subject_id"] for r, m in zip(rows, moments, strict=True) if m < middle]
    assert ids(await audit(api, subject_kind="token", since=middle.isoformat())) == at_or_after
    assert ids(await audit(api, subject_kind="token", until=middle.isoformat())) == before
    # the same instant in another offset is the same filter
    shanghai = middle.astimezone(datetime.fromisoformat("2000-01-01T00:00:00+08:00").tzinfo)
    assert ids(await audit(api, subject_kind="token", since=shanghai.isoformat())) == at_or_after
    window = {"since": moments[0].isoformat(), "until": (moments[-1] + timedelta(0, 1)).isoformat()}
    assert ids(await audit(api, subject_kind="token", **window)) == ["T-1", "T-2", "T-3"]
    empty = {"since": "2001-01-01T00:00:00Z", "until": "2001-01-02T00:00:00Z"}
    assert await audit(api, **empty) == []


async def test_bad_filters_are_refused_with_422(api: Api) -> None:
    for params in (
        {"since": "yesterday"},
        {"until": "2025-13-01T00:00:00Z"},
        {"since": "2025-01-01T00:00:00"},  # no offset: which day is meant?
        {"since": "0001-01-01T00:00:00Z"},
        {"until": "9999-12-31T23:59:59+14:00"},
        {"since": "2025-01-02T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
        {"actor": ""},
        {"actor": "x" * 301},
    ):
        r = await api.get(AUDIT, params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"] in ("invalid_input", "invalid_request"), r.text
    detail = refused(
        await api.get(AUDIT, params={"since": "2025-01-02T00:00Z", "until": "2025-01-01T00:00Z"})
    )
    assert detail == "until is before since"
