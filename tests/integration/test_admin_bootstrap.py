"""The first admin key: generated once when none exists, or taken from CSMS_ADMIN_TOKEN."""

from __future__ import annotations

import httpx

from csms.bootstrap import running
from tests.conftest import make_settings


async def test_first_start_generates_one_admin_key(database_url: str) -> None:
    settings = make_settings(database_url, admin_token=None)
    async with running(settings) as first:
        key = first.generated_admin_key
        assert key is not None and key.startswith("csms_")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{first.http_port}") as http:
            listed = await http.get("/api/v1/keys", headers={"Authorization": f"Bearer {key}"})
            assert listed.status_code == 200
            assert [k["role"] for k in listed.json()] == ["admin"]
            assert key not in listed.text
    async with running(settings) as second:
        assert second.generated_admin_key is None  # shown once, never again
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{second.http_port}") as http:
            again = await http.get("/api/v1/keys", headers={"Authorization": f"Bearer {key}"})
            assert again.status_code == 200


async def test_admin_token_from_the_environment_is_not_stored(database_url: str) -> None:
    settings = make_settings(database_url, admin_token="env-admin-token-abcdefghijkl")
    async with running(settings) as csms:
        assert csms.generated_admin_key is None
        assert await csms.pool.fetchval("SELECT count(*) FROM api_keys") == 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.http_port}") as http:
            ok = await http.get(
                "/api/v1/keys", headers={"Authorization": "Bearer env-admin-token-abcdefghijkl"}
            )
            assert ok.status_code == 200
