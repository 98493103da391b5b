"""Operator commands to stations: build the version's CALL, send it wherever the socket is, log it.

The station may be connected to this node (call it directly) or to another node sharing the
database (the command goes through the command log and a NOTIFY; see gateway/router.py).
Every command, answered or not, is in the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from csms import errors, metrics
from csms.clock import utcnow
from csms.domain.reports import REQUESTING_COMMANDS
from csms.domain.scope import Scope
from csms.domain.station import AdminState
from csms.domain.token import decide
from csms.domain.version import OcppVersion
from csms.services.command_guards import (
    direction_problem,
    registration_problem,
    remote_start_profile_problem,
)
from csms.services.dialects import Dialect, Dialects
from csms.services.local_lists import LocalLists
from csms.services.notifications import NotificationService
from csms.store.commands import CommandStore
from csms.store.nodes import NodeStore
from csms.store.stations import StationStore
from csms.store.tokens import TokenStore
from csms.store.transactions import TransactionStore
from ocppj import validation
from ocppj.codes import RpcFault

Params = dict[str, Any]
# Sent by the CSMS's own services, never named by an operator (the PKI sends CertificateSigned).
INTERNAL_COMMANDS = frozenset({"certificate-signed"})


class Caller(Protocol):
    """A connection we can send a CALL on (the RPC endpoint)."""

    version: OcppVersion

    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float
    ) -> dict[str, Any]: ...


Forward = Callable[[int, str, float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CommandResult:
    command_id: int
    station_id: str
    action: str
    request: Params
    response: Params


async def execute_logged(
    store: CommandStore,
    command_id: int,
    caller: Caller,
    action: str,
    payload: Params,
    timeout: float,
) -> None:
    """Send the CALL on a local connection and record the outcome in the command log."""
    try:
        response = await caller.call(action, payload, timeout=timeout)
    except errors.CallFailed as failed:
        status = {"CALLERROR": "callerror", "timeout": "timeout"}.get(failed.reason, "failed")
        await store.finish(
            command_id,
            status,
            error_code=failed.code or failed.reason,
            error_description=failed.description or failed.reason,
            at=utcnow(),
        )
        return
    try:
        await store.finish(command_id, "answered", response=response, at=utcnow())
    except errors.StoreError as exc:
        # The station answered, but its answer cannot be kept: say so rather than leave the
        # command pending forever.
        await store.finish(
            command_id,
            "failed",
            error_code="unstorable answer",
            error_description=str(exc),
            at=utcnow(),
        )


def _remote_start_token(action: str, payload: Params) -> str | None:
    """The id token a raw remote start asks for (1.6 idTag, 2.0.1 idToken.idToken)."""
    if action == "RemoteStartTransaction" and isinstance(payload.get("idTag"), str):
        return str(payload["idTag"])
    token = payload.get("idToken")
    if action == "RequestStartTransaction" and isinstance(token, dict):
        value = token.get("idToken")
        return value if isinstance(value, str) else None
    return None


class CommandService:
    def __init__(
        self,
        *,
        dialects: Dialects,
        node_id: str,
        node_timeout: float,
        local: Callable[[str], Caller | None],
        forward: Forward,
        commands: CommandStore,
        nodes: NodeStore,
        stations: StationStore,
        tokens: TokenStore,
        transactions: TransactionStore,
        start_guard: Callable[[str, str], Awaitable[None]] | None = None,
        local_lists: LocalLists | None = None,
        notifications: NotificationService | None = None,
    ) -> None:
        self._dialects = dialects
        # what an operator may name, for the error that lists them
        self._names = sorted({n for d in dialects.values() for n in d.builders} - INTERNAL_COMMANDS)
        self._notifications = notifications  # learns reports, monitors, messages from answers
        self._local_lists = local_lists  # checks and tracks SendLocalList (None: no tracking)
        self._start_guard = start_guard  # refuses a remote start the sharing rules would refuse
        self._node_id = node_id
        self._node_timeout = node_timeout
        self._local = local
        self._forward = forward
        self._log = commands
        self._nodes = nodes
        self._stations = stations
        self._tokens = tokens
        self._transactions = transactions

    async def send(
        self, station_id: str, name: str, params: Params, *, requested_by: str, timeout: float
    ) -> CommandResult:
        """Send a version-neutral command; the station's answer, or a named error."""
        version = await self._logged_version_of(station_id, name, params, requested_by)
        dialect = self._dialects[version]
        if name not in dialect.builders:
            raise errors.NotFound(f"unknown command {name!r}; known: {', '.join(self._names)}")
        params = await self._complete(station_id, version, name, dict(params))
        action, payload = dialect.builders[name](params)
        result = await self._send(station_id, version, name, action, payload, requested_by, timeout)
        if dialect.answer_facts is not None and self._notifications is not None:
            facts = dialect.answer_facts(name, result.request, result.response)
            if facts:
                await self._notifications.command_answered(
                    station_id, result.command_id, requested_by, facts
                )
        return result

    async def send_raw(
        self, station_id: str, action: str, payload: Params, *, requested_by: str, timeout: float
    ) -> CommandResult:
        """Send any action of the station's OCPP version with the payload as given."""
        version = await self._logged_version_of(station_id, "ocpp", payload, requested_by, action)
        token = _remote_start_token(action, payload)
        if token is not None and self._start_guard is not None:
            await self._start_guard(station_id, token)  # the raw path is no way round sharing
        return await self._send(station_id, version, "ocpp", action, payload, requested_by, timeout)

    async def send_credentials(
        self,
        station_id: str,
        action: str,
        payload: Params,
        *,
        logged: Params,
        requested_by: str,
        timeout: float,
    ) -> CommandResult:
        """Send a CALL carrying a new station password (rotate-password): the command log keeps
        `logged`, and only a connection on this node is used, so the password is never stored
        (a command for another node travels through the log)."""
        return await self._send(
            station_id,
            await self.local_version(station_id),
            "rotate-password",
            action,
            payload,
            requested_by,
            timeout,
            logged=logged,
        )

    def dialect(self, version: OcppVersion) -> Dialect:
        """What the station's OCPP version says on the wire (for the password rotation)."""
        return self._dialects[version]

    async def local_version(self, station_id: str) -> OcppVersion:
        """The version of the station's connection to this node; Conflict when another node
        holds it (NotFound, StationOffline as for any command)."""
        local = self._local(station_id)
        if local is None:
            await self._version_of(station_id)
            raise errors.Conflict(
                f"station {station_id} is connected to another node: send rotate-password "
                f"through that node's API"
            )
        return local.version

    async def _logged_version_of(
        self,
        station_id: str,
        command: str,
        request: Params,
        requested_by: str,
        action: str | None = None,
    ) -> OcppVersion:
        """The station's version; an attempt on an offline station is still audited."""
        try:
            return await self._version_of(station_id)
        except errors.StationOffline:
            command_id = await self._log.create(
                requested_by=requested_by,
                station_id=station_id,
                command=command,
                action=action,
                request=request,
                origin_node=self._node_id,
                target_node=None,
            )
            await self._log.finish(command_id, "offline", at=utcnow())
            metrics.COMMANDS.labels(command, "offline").inc()
            raise

    async def _version_of(self, station_id: str) -> OcppVersion:
        local = self._local(station_id)
        if local is not None:
            return local.version
        station = await self._stations.get(station_id)
        if station is None:
            raise errors.NotFound(f"station {station_id} does not exist")
        if not station["connected"] or station["ocpp_version"] is None:
            raise errors.StationOffline(f"station {station_id} is not connected")
        return OcppVersion(station["ocpp_version"])

    async def _complete(
        self, station_id: str, version: OcppVersion, name: str, params: Params
    ) -> Params:
        """Fill in what the CSMS knows and the operator should not have to say."""
        if name == "remote-start":
            if self._start_guard is not None:
                await self._start_guard(station_id, params["id_token"])
            params.setdefault("remote_start_id", secrets.randbelow(2**31 - 1) + 1)
        elif name in ("update-firmware", "get-diagnostics") or name in REQUESTING_COMMANDS:
            params.setdefault("request_id", secrets.randbelow(2**31 - 1) + 1)
        elif name in ("set-display-message", "get-transaction-status") and params.get(
            "transaction_id"
        ):
            params["station_tx_id"] = await self._station_tx_id(
                station_id, version, params["transaction_id"]
            )
        elif name == "remote-stop":
            params["ocpp_transaction_id"] = await self._ocpp_transaction_id(
                station_id, version, params["transaction_id"]
            )
        elif name == "send-local-list":
            params["entries"] = await self._local_list_entries(params.get("id_tokens", []))
            params["entries"] += await self._local_list_removals(
                station_id, params.get("remove_id_tokens", [])
            )
        elif name == "set-charging-profile" and params["profile"].get("transaction_id"):
            tx = params["profile"]["transaction_id"]
            params["profile"]["station_tx_id"] = await self._ocpp_transaction_id(
                station_id, version, tx
            )
            params["profile"]["transaction_id"] = (
                params["profile"]["station_tx_id"] if version is OcppVersion.V16 else None
            )
        return params

    async def _ocpp_transaction_id(
        self, station_id: str, version: OcppVersion, transaction_id: int
    ) -> int | str:
        row = await self._transactions.get(transaction_id)
        if row is None or row["station_id"] != station_id:
            raise errors.NotFound(f"transaction {transaction_id} is not on station {station_id}")
        if row["status"] != "open":
            raise errors.Conflict(f"transaction {transaction_id} is not open")
        if version is OcppVersion.V201:
            return str(row["station_tx_id"])
        return int(row["id"])

    async def _station_tx_id(
        self, station_id: str, version: OcppVersion, transaction_id: int
    ) -> str | None:
        """The station's id of a CSMS transaction, open or not (E14 asks about ended ones
        too); None on 1.6, which has no such command."""
        row = await self._transactions.get(transaction_id)
        if row is None or row["station_id"] != station_id:
            raise errors.NotFound(f"transaction {transaction_id} is not on station {station_id}")
        if version is OcppVersion.V16:
            return None
        if row["station_tx_id"] is None:
            raise errors.Conflict(f"transaction {transaction_id} has no 2.0.1 transaction id")
        return str(row["station_tx_id"])

    async def _local_list_entries(self, id_tokens: list[str]) -> list[Params]:
        """Each token with the status the CSMS would answer now (never a guess for unknowns)."""
        entries = []
        now = utcnow()
        for value in id_tokens:
            token = await self._tokens.get(value)
            if token is None:
                raise errors.NotFound(f"id token {value} does not exist")
            decision = decide(token, now, in_other_transaction=False, accept_unknown=False)
            entries.append(
                {
                    "id_token": token.id_token,
                    "type": token.token_type,
                    "status": decision.status.value,
                    "expires_at": token.expires_at,
                    "group_id": token.group_id,
                }
            )
        return entries

    async def _local_list_removals(self, station_id: str, id_tokens: list[str]) -> list[Params]:
        """Entries without a status, which remove the tokens (1.6 §5.15, 2.0.1 D01). A 2.0.1
        station matches the type too: the one it was sent with, else the token store's."""
        sent = await self._local_lists.known_types(station_id) if self._local_lists else {}
        removals = []
        for value in id_tokens:
            kind = sent.get(value)
            if kind is None and (token := await self._tokens.get(value)) is not None:
                kind = token.token_type
            removals.append({"id_token": value, "type": kind, "status": None})
        return removals

    async def _guard(
        self,
        station_id: str,
        version: OcppVersion,
        command: str,
        action: str,
        payload: Params,
        requested_by: str,
        *,
        logged: Params | None = None,
    ) -> None:
        """Refuse what the specs forbid the CSMS to send, whoever asks (see command_guards);
        a refusal because of the station's registration is audited like an offline attempt."""
        problem = direction_problem(version, action) or remote_start_profile_problem(
            action, payload
        )
        if problem is not None:
            raise errors.InvalidInput(problem)
        if logged is None and self._dialects[version].sets_password(action, payload):
            # A password the CSMS does not know would lock the station out at its next connect.
            raise errors.InvalidInput(
                f"the station's password is changed only with POST /api/v1/stations/"
                f"{station_id}/commands/rotate-password (the CSMS generates it, sends it and "
                f"accepts both passwords until the station reconnects with the new one)"
            )
        if action == "SendLocalList" and self._local_lists is not None:
            await self._local_lists.check(station_id, version, payload)
        station = await self._stations.get(station_id)
        if station is None:
            raise errors.NotFound(f"station {station_id} does not exist")
        refusal = registration_problem(AdminState(station["admin_state"]), station_id, action)
        if refusal is None:
            return
        command_id = await self._log_attempt(
            station_id, command, action, payload if logged is None else logged, requested_by, None
        )
        await self._log.finish(
            command_id, "failed", error_code="refused", error_description=refusal, at=utcnow()
        )
        metrics.COMMANDS.labels(command, "refused").inc()
        raise errors.Conflict(refusal)

    async def _log_attempt(
        self,
        station_id: str,
        command: str,
        action: str,
        request: Params,
        requested_by: str,
        target: str | None,
    ) -> int:
        """An entry in the command log: what was asked, by whom, through which node."""
        command_id: int = await self._log.create(
            requested_by=requested_by,
            station_id=station_id,
            command=command,
            action=action,
            request=request,
            origin_node=self._node_id,
            target_node=target,
        )
        return command_id

    async def _send(
        self,
        station_id: str,
        version: OcppVersion,
        command: str,
        action: str,
        payload: Params,
        requested_by: str,
        timeout: float,
        *,
        logged: Params | None = None,
    ) -> CommandResult:
        """Send on the connection wherever it is; the log keeps `logged` (default: `payload`)."""
        if action not in validation.known_actions(version):
            raise errors.NotFound(f"{action} is not an OCPP {version} action")
        try:
            validation.validate(version, action, payload)
        except RpcFault as fault:
            raise errors.InvalidInput(fault.description) from None
        await self._guard(
            station_id, version, command, action, payload, requested_by, logged=logged
        )
        local = self._local(station_id)
        if local is None and logged is not None:
            # What the log keeps is not what was asked: another node would send `logged` (a
            # password placeholder) from the log. The station moved while we checked (it
            # reconnected elsewhere): refuse rather than forward.
            raise errors.Conflict(
                f"station {station_id} is no longer connected to this node; try again"
            )
        target = (
            self._node_id
            if local is not None
            else await self._nodes.node_of(station_id, self._node_timeout)
        )
        command_id = await self._log_attempt(
            station_id, command, action, payload if logged is None else logged, requested_by, target
        )
        if target is None:
            await self._log.finish(command_id, "offline", at=utcnow())
            metrics.COMMANDS.labels(command, "offline").inc()
            raise errors.StationOffline(f"station {station_id} is not connected")
        if local is not None:
            await execute_logged(self._log, command_id, local, action, payload, timeout)
        else:
            await self._forward(command_id, target, timeout)
        result = await self._result(command_id, command)
        if self._local_lists is not None:
            await self._local_lists.observe(
                station_id, version, action, payload, result.response, command_id
            )
        return result

    async def _result(self, command_id: int, command: str) -> CommandResult:
        row = await self._log.get(command_id)
        if row is None:  # pragma: no cover - the row was just written
            raise errors.StoreError(f"command {command_id} vanished from the log")
        status = row["status"]
        metrics.COMMANDS.labels(command, status).inc()
        if status == "answered":
            return CommandResult(
                command_id, row["station_id"], row["action"], row["request"], row["response"]
            )
        if status == "callerror":
            raise errors.CallFailed(
                "CALLERROR", code=row["error_code"], description=row["error_description"] or ""
            )
        if status == "offline":
            raise errors.StationOffline(f"station {row['station_id']} is not connected")
        if status in ("timeout", "pending"):
            raise errors.CallFailed("timeout")
        raise errors.CallFailed(
            row["error_code"] or "failed", description=row["error_description"] or ""
        )

    async def history(
        self, station_id: str | None, limit: int, offset: int, scope: Scope | None = None
    ) -> list[dict[str, Any]]:
        """The command log, newest first; only commands to stations in `scope` (None: all)."""
        return await self._log.recent(station_id, limit, offset, scope)

    async def local_list(self, station_id: str) -> dict[str, Any]:
        """The station's Local Authorization List as the CSMS last learnt it."""
        if await self._stations.get(station_id) is None:
            raise errors.NotFound(f"station {station_id} does not exist")
        if self._local_lists is None:
            raise errors.NotFound("local lists are not tracked by this CSMS")
        return await self._local_lists.describe(station_id)
