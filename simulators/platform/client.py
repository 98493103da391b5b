"""The platform's side of the queries: calls a CSMS's `/evcs/v1/<method>` endpoints."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from simulators.platform.codec import (
    Answer,
    BadAnswer,
    Keys,
    Ret,
    SeqCounter,
    encode,
    open_answer,
    seal_request,
)

TOKEN_METHOD = "query_token"
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class QueryError(Exception):
    """The CSMS refused to issue a token (the caller's keys or secret are wrong)."""


class PlatformClient:
    """A monitoring platform querying a CSMS: seals requests, checks answer signatures."""

    def __init__(
        self,
        base_url: str,
        *,
        platform_operator_id: str,
        operator_secret: str,
        data_secret: str,
        data_iv: str,
        sig_secret: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.platform_operator_id = platform_operator_id
        self.operator_secret = operator_secret
        self.keys = Keys(data_secret, data_iv, sig_secret)
        self.token: str | None = None
        self._seq = SeqCounter()
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch_token(self) -> dict[str, Any]:
        """Ask for a token and keep it for later queries; QueryError when refused."""
        answer = await self.query(
            TOKEN_METHOD,
            {"OperatorID": self.platform_operator_id, "OperatorSecret": self.operator_secret},
        )
        data = answer.data
        if answer.ret != Ret.OK or not isinstance(data, dict):
            raise QueryError(f"query_token answered Ret {answer.ret}: {answer.msg}")
        if data.get("SuccStat") != 0 or not isinstance(data.get("AccessToken"), str):
            raise QueryError(f"query_token refused, FailReason {data.get('FailReason')}")
        self.token = data["AccessToken"]
        return data

    async def query(self, method: str, data: Any = None) -> Answer:
        """Call `method` with `data` (default `{}`); the answer's Sig is checked (SignatureError).

        Every method but query_token carries the stored token, fetched first if there is none.
        """
        token = None
        if method != TOKEN_METHOD:
            if self.token is None:
                await self.fetch_token()
            token = self.token
        envelope = seal_request(
            self.platform_operator_id, {} if data is None else data, self.keys, seq=self._seq.next()
        )
        response = await self._post(method, encode(envelope), token)
        if response.status_code != 200:
            raise BadAnswer(f"{method}: HTTP {response.status_code}")
        return open_answer(response.content, self.keys)

    async def post_raw(
        self, method: str, body: Mapping[str, Any] | bytes, token: str | None = None
    ) -> tuple[int, Any]:
        """Send `body` as it is (for bad envelopes); the HTTP status and the JSON (or text)."""
        content = body if isinstance(body, bytes) else encode(body)
        response = await self._post(method, content, token)
        try:
            return response.status_code, json.loads(response.content)
        except ValueError:
            return response.status_code, response.text

    async def _post(self, method: str, content: bytes, token: str | None) -> httpx.Response:
        headers = dict(JSON_HEADERS)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self._http.post(f"{self.base_url}/{method}", content=content, headers=headers)
