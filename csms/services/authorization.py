"""Answers whether an id token may charge, from the token store."""

from __future__ import annotations

from csms.clock import utcnow
from csms.config import UnknownTokenPolicy
from csms.domain.station import ConnectorRef
from csms.domain.token import AuthDecision, decide
from csms.store.tokens import TokenStore


class AuthorizationService:
    def __init__(self, tokens: TokenStore, unknown_tokens: UnknownTokenPolicy) -> None:
        self._tokens = tokens
        self._accept_unknown = unknown_tokens is UnknownTokenPolicy.ACCEPT

    async def authorize(
        self, id_token: str, *, station_id: str | None = None, where: ConnectorRef | None = None
    ) -> AuthDecision:
        """Decide for a token; a transaction on `where` itself does not count as concurrent."""
        token = await self._tokens.get(id_token)
        in_other = False
        if token is not None and not token.blocked:
            in_other = await self._tokens.in_open_transaction(
                id_token,
                except_station=station_id,
                except_evse=where.evse_id if where else None,
            )
        return decide(
            token, utcnow(), in_other_transaction=in_other, accept_unknown=self._accept_unknown
        )
