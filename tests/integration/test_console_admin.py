"""The console's accounts page in headless Chromium: a whole-network admin creates an operator
account in the page, which can then sign in through the API, disables it (the API refuses it),
enables it again, resets its password and deletes it after a confirm step in the page; creates
an API key that is shown once, and revokes it (the API refuses it). Non-admins see no accounts
link, and the page reads in English once chosen.
"""

from __future__ import annotations

import httpx

from csms.bootstrap import Running
from tests.chromium import Page, live_page
from tests.conftest import Api
from tests.integration.test_console_browser import (
    click,
    console_url,
    exists,
    fill,
    make_user,
    node,
    ok,
    shown,
    sign_in,
    text,
)


async def api_sign_in(csms: Running, login: str, password: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
        answer = await http.post("/api/v1/session", json={"login": login, "password": password})
        return answer.status_code


async def with_key(csms: Running, key: str) -> int:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
        answer = await http.get("/api/v1/stations", headers={"Authorization": f"Bearer {key}"})
        return answer.status_code


async def done(page: Page, status: str = "ok") -> None:
    await page.wait_for(f"{node('user-result')}?.dataset.status ?? null", status)


async def test_an_admin_manages_accounts_in_the_page(
    csms: Running, api: Api, chromium: str
) -> None:
    await make_user(api, "boss", "admin", display_name="站长")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "boss")
        await shown(page, "overview")
        assert await page.evaluate(f"{node('nav-users')}.hidden") is False
        await click(page, "nav-users")
        await shown(page, "users")
        assert await exists(page, "user-boss")
        # the own account cannot be disabled or deleted
        assert await page.evaluate(f"{node('user-disable-boss')}.disabled") is True
        # a missing password is said in the page
        await fill(page, "user-new-login", "ops-new")
        await click(page, "user-create-submit")
        await done(page, "error")
        assert await text(page, "user-error") == "请填写账号和初始密码。"
        await fill(page, "user-new-name", "新值班员")
        await fill(page, "user-new-role", "operator", "change")
        await fill(page, "user-new-scope-kind", "counties", "change")
        await fill(page, "user-new-scope-value", "朔城区, 平鲁区")
        await fill(page, "user-new-password", "new-operator-pw-1")
        await click(page, "user-create-submit")
        await page.wait_for(
            f"{node('user-answer')}?.textContent.startsWith('账号 ops-new 已创建') ?? null", True
        )
        assert await text(page, "user-ops-new-scope") is not None
        (user,) = [
            u for u in ok(await api.get("/api/v1/users", role="admin")) if u["login"] == "ops-new"
        ]
        assert user["role"] == "operator" and user["display_name"] == "新值班员"
        assert sorted(user["scope"]["counties"]) == ["平鲁区", "朔城区"]
        assert await api_sign_in(csms, "ops-new", "new-operator-pw-1") == 200

        # disabled: the API refuses it; enabled again: it signs in
        await click(page, "user-disable-ops-new")
        await page.wait_for(f"{node('user-ops-new-state')}?.dataset.disabled ?? null", "true")
        assert await text(page, "user-answer") == "账号 ops-new 已停用，其登录已全部失效。"
        assert await api_sign_in(csms, "ops-new", "new-operator-pw-1") == 401
        await click(page, "user-enable-ops-new")
        await page.wait_for(f"{node('user-ops-new-state')}?.dataset.disabled ?? null", "false")
        assert await api_sign_in(csms, "ops-new", "new-operator-pw-1") == 200

        # role and scope changed; the password reset
        await fill(page, "user-role-ops-new", "viewer", "change")
        await fill(page, "user-ops-new-scope-kind", "all", "change")
        await click(page, "user-save-ops-new")
        await page.wait_for(f"{node('user-answer')}?.textContent ?? null",
                            "账号 ops-new 的角色和范围已保存，下次请求起生效。")  # fmt: skip
        user = ok(await api.get(f"/api/v1/users/{user['id']}", role="admin"))
        assert user["role"] == "viewer" and user["scope"] is None
        await fill(page, "user-password-ops-new", "reset-password-22")
        await click(page, "user-reset-ops-new")
        await page.wait_for(
            f"{node('user-answer')}?.textContent.startsWith('账号 ops-new 的密码已重置') ?? null",
            True,
        )
        assert await api_sign_in(csms, "ops-new", "new-operator-pw-1") == 401
        assert await api_sign_in(csms, "ops-new", "reset-password-22") == 200

        # deleting asks first, in the page
        await click(page, "user-delete-ops-new")
        assert await page.evaluate(f"{node('user-confirm-ops-new')}.hidden") is False
        await click(page, "user-delete-no-ops-new")
        assert await page.evaluate(f"{node('user-confirm-ops-new')}.hidden") is True
        await click(page, "user-delete-ops-new")
        await click(page, "user-delete-yes-ops-new")
        await page.wait_for(f"{node('user-answer')}?.textContent ?? null", "账号 ops-new 已删除。")
        assert not await exists(page, "user-ops-new")
        assert await api_sign_in(csms, "ops-new", "reset-password-22") == 401

        # an API key, shown once, then revoked
        await fill(page, "key-new-name", "monitoring")
        await fill(page, "key-new-role", "viewer", "change")
        await click(page, "key-create-submit")
        await page.wait_for(f"{node('key-new-value')} !== null", True)
        key = await text(page, "key-new-value")
        assert (await text(page, "key-new")).startswith("请立即复制并妥善保存此密钥")
        assert await with_key(csms, key) == 200
        (row,) = [
            k for k in ok(await api.get("/api/v1/keys", role="admin")) if k["name"] == "monitoring"
        ]
        assert row["role"] == "viewer" and row["scope"] is None
        await click(page, f"key-revoke-{row['id']}")
        revoked = node(f"key-{row['id']}-revoked")
        await page.wait_for(f"{revoked}?.dataset.revoked ?? null", "true")
        assert not await exists(page, "key-new-value")  # shown once: gone after the revoke
        assert await with_key(csms, key) == 401
        page_text = await page.evaluate("document.body.textContent")
        assert key not in page_text

        # English once
        await click(page, "language")
        await page.wait_for(f"{node('nav-users')}.textContent", "Accounts")
        await shown(page, "users")
        await page.wait_for(f"{node('key-create-submit')}?.textContent ?? null", "Create key")
        assert await text(page, "user-create-submit") == "Create account"


async def test_a_non_admin_sees_no_accounts_link(csms: Running, api: Api, chromium: str) -> None:
    await make_user(api, "ops-plain", "operator")
    await make_user(api, "county-admin", "admin", scope={"counties": ["朔城区"]})
    for login in ("ops-plain", "county-admin"):
        async with live_page(console_url(csms), chromium) as page:
            await sign_in(page, login)
            await shown(page, "overview")
            assert await page.evaluate(f"{node('nav-users')}.hidden") is True
            await page.evaluate("location.hash = '#/users'")
            await shown(page, "overview")  # the accounts page is not shown
            assert not await exists(page, "user-create")


MONITOR = {
    "id": "MON-P",
    "name": "省平台",
    "enabled": False,
    "base_url": "http://127.0.0.1:9/evcs/v1",
    "operator_id": "MA0CSMS01",
    "platform_operator_id": "MA0MONP01",
    "operator_secret": "s",
    "data_secret": "0123456789abcdef",
    "data_iv": "0123456789abcdef",
    "sig_secret": "s",
}


async def test_platform_health_and_a_failed_record_retried(
    csms: Running, api: Api, chromium: str
) -> None:
    ok(await api.post("/api/v1/platforms", role="admin", json=MONITOR), 201)
    record = await csms.pool.fetchval(
        """INSERT INTO platform_outbox (platform_id, stream, kind, data, state, attempts)
           VALUES ('MON-P', 'site:S1', 'station_info', '{"station_id": "S1"}', 'failed', 3)
           RETURNING id"""
    )
    await make_user(api, "ops-mon", "operator")
    await make_user(api, "view-mon", "viewer")
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "ops-mon")
        await shown(page, "overview")
        await click(page, "nav-platforms")
        await shown(page, "platforms")
        assert await text(page, "platform-MON-P-failed-count") == "1"
        assert await text(page, "platform-MON-P-enabled") == "否"
        assert await exists(page, f"outbox-{record}")
        await click(page, f"outbox-retry-{record}")
        await page.wait_for(f"{node('platform-result')}?.dataset.status ?? null", "ok")
        answer = await text(page, "platform-answer")
        assert answer.startswith(f"记录 {record} 已重新排队"), answer
        assert await text(page, "platform-MON-P-pending") == "1"
        assert await page.evaluate(f"{node(f'outbox-retry-{record}')}.disabled") is True
    (old,) = [
        r
        for r in ok(await api.get("/api/v1/platforms/MON-P/outbox?state=failed", role="operator"))
        if r["id"] == record
    ]
    assert old["requeued_as"] is not None
    # viewers see the health, not the records
    async with live_page(console_url(csms), chromium) as page:
        await sign_in(page, "view-mon")
        await shown(page, "overview")
        await click(page, "nav-platforms")
        await shown(page, "platforms")
        assert await text(page, "platform-MON-P-pending") == "1"
        assert not await exists(page, f"outbox-{record}")
