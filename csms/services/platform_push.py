"""Sending the outbox to monitoring platforms: in order per stream, retried until acknowledged.

One lane per enabled platform. A lane holds the platform's advisory lock (one sender per
platform across nodes), keeps a bearer token fresh, and sends the head record of up to
`push_concurrency` streams at once; a stream's next record goes only after its head was
acknowledged or refused for good. When the platform cannot be reached the lane stops
sending and probes it with one record on the retry schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from csms import metrics
from csms.clock import utcnow
from csms.outage import OutageLog
from csms.sealed import SealedBox
from csms.services.events import EventBus
from csms.store.outage import cause as outage_cause
from csms.store.platform_outbox import LIVE, OutboxStore
from csms.store.platforms import LockLost, PlatformStore, SenderLock
from csms.tcec.envelope import (
    Answer,
    EnvelopeError,
    Keys,
    Ret,
    next_seq,
    open_answer,
    parse_body,
    seal_request,
)
from csms.tcec.messages import PushDataError, Spelling, dumps
from csms.tcec.render import Target, clean, render, storable
from csms.tcec.retry import delay_after, jittered, refresh_due

log = logging.getLogger(__name__)

# Answers that say the record itself is wrong: sending it again cannot help.
REFUSED = frozenset({Ret.BAD_ENVELOPE, Ret.BAD_DATA})
TOKEN_METHOD = "query_token"
LOCK_CHECK = 1.0  # seconds between checks (before sending more) that the lock is still held
LOCK_RETRY = 5.0
SETTLE_RETRY_MAX = 30.0
_SAMPLE = timedelta(seconds=1)


class Unreachable(Exception):
    """No usable answer: connection refused, timeout, HTTP error, or an answer we cannot read."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """A platform's opened secrets and settings; repr never shows a secret."""

    platform_id: str
    base_url: str
    operator_id: str
    operator_secret: str
    keys: Keys
    target: Target
    live_interval: float | None = None  # seconds; None when it takes no live charging data

    def __repr__(self) -> str:
        return f"Credentials({self.platform_id}, {self.base_url})"

    @property
    def fingerprint(self) -> str:
        """Changes when anything the lane uses changes (the lane is then restarted)."""
        parts = (
            self.base_url,
            self.operator_id,
            self.operator_secret,
            self.keys.data_secret.hex(),
            self.keys.data_iv.hex(),
            self.keys.sig_secret.hex(),
            dumps(
                {
                    "spelling": self.target.spelling.value,
                    "tel": self.target.service_tel,
                    "methods": dict(self.target.methods),
                    "live": None if self.live_interval is None else str(self.live_interval),
                }
            ),
        )
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def credentials(row: Mapping[str, Any], box: SealedBox) -> Credentials:
    return Credentials(
        platform_id=row["id"],
        base_url=row["base_url"].rstrip("/"),
        operator_id=row["operator_id"],
        operator_secret=box.open(row["operator_secret_sealed"]),
        keys=Keys.of(
            box.open(row["data_secret_sealed"]),
            box.open(row["data_iv_sealed"]),
            box.open(row["sig_secret_sealed"]),
        ),
        target=Target(
            operator_id=row["operator_id"],
            spelling=Spelling(row["spelling"]),
            service_tel=row["service_tel"],
            methods=dict(row["methods"] or {}),
        ),
        live_interval=float(row["live_interval"]) if LIVE in (row["kinds"] or ()) else None,
    )


class PlatformLink:
    """Calls to one platform: the envelope, the Seq counter and the bearer token."""

    def __init__(
        self, creds: Credentials, client: httpx.AsyncClient, now: Callable[[], datetime]
    ) -> None:
        self.creds = creds
        self._client = client
        self._now = now
        self._seq = 0
        self._token: str | None = None
        self._token_expires: datetime | None = None
        self._token_lifetime = 0.0
        self._token_lock = asyncio.Lock()

    @property
    def token_expires(self) -> datetime | None:
        return self._token_expires

    async def call(self, method: str, data_json: str, token: str | None) -> Answer:
        self._seq = next_seq(self._seq)
        envelope = seal_request(
            self.creds.keys, self.creds.operator_id, data_json, at=self._now(), seq=self._seq
        )
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self._client.post(
                f"{self.creds.base_url}/{method}", content=dumps(envelope), headers=headers
            )
        except httpx.HTTPError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}".strip(": ")) from None
        if response.status_code != 200:
            raise Unreachable(f"HTTP {response.status_code}")
        try:
            return open_answer(self.creds.keys, parse_body(response.content))
        except EnvelopeError as exc:
            raise Unreachable(f"unreadable answer: {exc.msg}") from None

    async def token(self) -> str:
        """A bearer token with enough life left; one query_token at a time."""
        async with self._token_lock:
            if self._token is not None and self._token_expires is not None:
                remaining = (self._token_expires - self._now()).total_seconds()
                if not refresh_due(remaining, self._token_lifetime):
                    return self._token
            answer = await self.call(
                TOKEN_METHOD,
                dumps(
                    {
                        "OperatorID": self.creds.operator_id,
                        "OperatorSecret": self.creds.operator_secret,
                    }
                ),
                None,
            )
            data = answer.data if isinstance(answer.data, dict) else {}
            if answer.ret != Ret.OK or data.get("SuccStat") != 0 or not data.get("AccessToken"):
                reason = data.get("FailReason", "")
                raise TokenRefused(
                    answer.ret, answer.msg or f"query_token refused (FailReason {reason})"
                )
            lifetime = _lifetime(data.get("TokenAvailableTime"))
            self._token = str(data["AccessToken"])
            self._token_lifetime = lifetime
            self._token_expires = self._now() + timedelta(seconds=lifetime)
            metrics.PLATFORM_TOKENS.labels(self.creds.platform_id).inc()
            return self._token

    def forget_token(self, token: str) -> None:
        """Drop a refused token, unless another delivery has already replaced it."""
        if self._token == token:
            self._token = None
            self._token_expires = None

    async def send(self, method: str, data_json: str) -> Answer:
        """A notification with a fresh token; a 4002 answer gets one retry with a new token."""
        token = await self.token()
        answer = await self.call(method, data_json, token)
        if answer.ret == Ret.BAD_TOKEN:
            self.forget_token(token)
            answer = await self.call(method, data_json, await self.token())
        return answer


def _lifetime(value: Any) -> float:
    """TokenAvailableTime in seconds; a platform that says nonsense gets no token from us."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        raise TokenRefused(Ret.OK, f"TokenAvailableTime {value!r} is not a number") from None
    if not 0 < seconds <= 366 * 86400:
        raise TokenRefused(Ret.OK, f"TokenAvailableTime {value!r} is out of range")
    return seconds


class TokenRefused(Exception):
    def __init__(self, ret: int, msg: str) -> None:
        super().__init__(msg)
        self.ret = ret
        self.msg = msg


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to do with a record after one try."""

    action: str  # "sent" | "retry" | "failed"
    ret: int | None
    msg: str
    answer: Any = None
    unreachable: bool = False


def judge(kind: str, answer: Answer) -> Outcome:
    """Classify a platform's answer to a notification (pure)."""
    if answer.ret == Ret.OK:
        data = answer.data if isinstance(answer.data, dict) else {}
        # Status 1 is "not received" in the notification answers: try again.
        if kind != "charge_order" and data.get("Status", 0) not in (0, "0"):
            return Outcome("retry", answer.ret, f"platform answered Status {data.get('Status')}")
        # the charge status answer says SuccStat 0 received, 1 not (with a FailReason)
        if kind == LIVE and data.get("SuccStat", 0) not in (0, "0"):
            reason = data.get("FailReason", "")
            return Outcome("retry", answer.ret, f"platform answered SuccStat 1 ({reason})")
        note = ""
        if kind == "charge_order" and data.get("ConfirmResult", 0) not in (0, "0"):
            note = f"received; the platform disputes it (ConfirmResult {data['ConfirmResult']})"
        return Outcome("sent", answer.ret, note, data)
    if answer.ret in REFUSED:
        return Outcome("failed", answer.ret, answer.msg or "refused by the platform")
    return Outcome("retry", answer.ret, answer.msg or f"Ret {answer.ret}")


class Lane:
    """The sender of one platform."""

    def __init__(
        self,
        creds: Credentials,
        outbox: OutboxStore,
        platforms: PlatformStore,
        bus: EventBus,
        *,
        client: httpx.AsyncClient,
        schedule: tuple[float, ...],
        concurrency: int,
        poll: float,
        now: Callable[[], datetime] = utcnow,
        outage: OutageLog | None = None,
        live: Callable[[str, datetime], Awaitable[int]] | None = None,
    ) -> None:
        self.creds = creds
        self._live = live
        self._outage = outage or OutageLog(outage_cause)
        self.link = PlatformLink(creds, client, now)
        self._outbox = outbox
        self._platforms = platforms
        self._bus = bus
        self._schedule = schedule
        self._concurrency = concurrency
        self._refill = max(1, concurrency // 4)
        self._poll = poll
        self._now = now
        self._busy: set[str] = set()
        self._wake = asyncio.Event()
        self._paused_until: datetime | None = None
        self._down_failures = 0
        self.holding_lock = False
        self.last_error: str | None = None
        self._success_written: datetime | None = None

    @property
    def platform_id(self) -> str:
        return self.creds.platform_id

    def poke(self) -> None:
        """New records may be due (an API retry, a resync)."""
        self._wake.set()

    async def run(self) -> None:
        """Hold the platform's lock (waiting while another node holds it), then send; stop
        sending as soon as the lock's connection is gone (another node may take over)."""
        while True:
            try:
                async with self._platforms.sender_lock(self.platform_id) as lock:
                    self.holding_lock = lock.held
                    if lock.held:
                        await self._send_forever(lock)
            except* LockLost:  # raised inside the TaskGroup: it arrives in an ExceptionGroup
                log.warning("platform %s: lost the sender lock; stopped sending", self.platform_id)
            except* Exception as failed:
                self._outage.failed(
                    failed, log, "platform %s: the sender lock failed", self.platform_id
                )
            finally:
                self.holding_lock = False
            await asyncio.sleep(LOCK_RETRY)

    async def _send_forever(self, lock: SenderLock) -> None:
        checked = asyncio.get_running_loop().time()
        async with asyncio.TaskGroup() as tasks:
            if self._live is not None and self.creds.live_interval is not None:
                # the lock holder queues live data too: one producer per platform
                tasks.create_task(self._queue_live(self._live, self.creds.live_interval))
            while True:
                now = self._now()
                if self._paused_until is not None and now < self._paused_until:
                    await self._sleep((self._paused_until - now).total_seconds())
                    continue
                probing = self._paused_until is not None
                free = (1 if probing else self._concurrency) - len(self._busy)
                # refill in batches: each look at the outbox scans every pending stream head
                if free > 0 and (free >= self._refill or len(self._busy) == 0):
                    if asyncio.get_running_loop().time() - checked >= LOCK_CHECK:
                        # before sending more: another node may hold the lock by now
                        if not await lock.alive():
                            raise LockLost  # cancels deliveries in flight: they stay pending
                        checked = asyncio.get_running_loop().time()
                    try:
                        heads = await self._outbox.due(
                            self.platform_id, now, free, sorted(self._busy)
                        )
                    except Exception as exc:
                        self._outage.failed(
                            exc, log, "platform %s: reading the outbox failed", self.platform_id
                        )
                        heads = []
                    for head in heads:
                        self._busy.add(head["stream"])
                        tasks.create_task(self._deliver(head))
                await self._sleep(self._poll)

    async def _queue_live(
        self, live: Callable[[str, datetime], Awaitable[int]], interval: float
    ) -> None:
        """Every `interval` seconds, each running session's live data replaces its unsent one,
        whether the platform is up or not (a platform that comes back gets the latest)."""
        while True:
            try:
                if await live(self.platform_id, self._now()):
                    self._wake.set()
            except Exception as exc:
                self._outage.failed(
                    exc, log, "platform %s: queuing live charging data failed", self.platform_id
                )
            await asyncio.sleep(interval)

    async def _sleep(self, seconds: float) -> None:
        # asyncio.timeout, not wait_for: 3.11's can swallow a cancellation
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.01, seconds)):
                await self._wake.wait()
        self._wake.clear()

    async def _deliver(self, record: dict[str, Any]) -> None:
        """One try, then its outcome written; the stream stays busy until it is written, so a
        record the platform acknowledged is not sent again because a write failed."""
        try:
            outcome = await self._attempt(record)
            at = self._now()
            wait = 0.5
            while True:
                try:
                    await self._record(record, outcome, at)
                    break
                except Exception as exc:
                    self._outage.failed(
                        exc,
                        log,
                        "platform %s: recording the outcome of record %s failed; retrying",
                        self.platform_id,
                        record["id"],
                    )
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, SETTLE_RETRY_MAX)
            try:
                await self._health(outcome, at)
            except Exception as exc:  # the health row is a view; the outbox is the truth
                self._outage.failed(
                    exc, log, "platform %s: updating its health failed", self.platform_id
                )
        finally:
            self._busy.discard(record["stream"])
            self._wake.set()

    async def _attempt(self, record: dict[str, Any]) -> Outcome:
        kind = record["kind"]
        try:
            method, data_json = render(kind, record["data"], self.creds.target)
        except (PushDataError, KeyError, ValueError, TypeError, ArithmeticError) as exc:
            return Outcome("failed", None, f"cannot be sent: {exc}")
        started = asyncio.get_running_loop().time()
        try:
            answer = await self.link.send(method, data_json)
        except Unreachable as exc:
            return Outcome("retry", None, str(exc), unreachable=True)
        except TokenRefused as exc:
            return Outcome("retry", exc.ret, f"token: {exc.msg}", unreachable=True)
        except Exception as exc:  # anything else: retried on the schedule, never in a hot loop
            log.exception("platform %s: sending record %s failed", self.platform_id, record["id"])
            return Outcome("retry", None, f"{type(exc).__name__}: {exc}")
        finally:
            metrics.PLATFORM_PUSH_SECONDS.labels(self.platform_id).observe(
                asyncio.get_running_loop().time() - started
            )
        return judge(kind, answer)

    async def _record(self, record: dict[str, Any], outcome: Outcome, at: datetime) -> None:
        """The outcome in the outbox (retried by the caller until it is written)."""
        metrics.PLATFORM_PUSHES.labels(self.platform_id, record["kind"], outcome.action).inc()
        if outcome.action == "sent":
            await self._outbox.mark_sent(record["id"], at, storable(outcome.answer))
            if outcome.msg:
                log.warning(
                    "platform %s: record %s %s", self.platform_id, record["id"], outcome.msg
                )
        elif outcome.action == "failed":
            await self._outbox.mark_failed(record["id"], at, outcome.ret, clean(outcome.msg))
            log.warning(
                "platform %s refused record %s (%s): %s",
                self.platform_id,
                record["id"],
                record["kind"],
                outcome.msg,
            )
        else:
            delay = jittered(delay_after(record["attempts"] + 1, self._schedule))
            await self._outbox.mark_retry(
                record["id"], at, at + timedelta(seconds=delay), outcome.ret, clean(outcome.msg)
            )

    async def _health(self, outcome: Outcome, at: datetime) -> None:
        """The breaker and the health row: a platform that cannot be reached is probed."""
        reached = not outcome.unreachable
        was_down = self._paused_until is not None
        if reached:
            self._down_failures = 0
            self._paused_until = None
        elif self._paused_until is None or at >= self._paused_until:
            # one failure per round: deliveries that were in flight when the platform went
            # away fail together and count once; a failed probe counts once more
            self._down_failures += 1
            pause = jittered(delay_after(self._down_failures, self._schedule))
            self._paused_until = at + timedelta(seconds=pause)
        ok = outcome.action == "sent"
        changed = (not ok) or was_down or self.last_error is not None
        self.last_error = None if ok else outcome.msg
        if changed:
            await self._platforms.record_result(
                self.platform_id, ok=ok, at=at, ret=outcome.ret, msg=None if ok else outcome.msg
            )
            self._bus.publish(
                "platform.push",
                "",
                platform_id=self.platform_id,
                ok=ok,
                reachable=reached,
                ret=outcome.ret,
                msg=None if ok else outcome.msg,
            )
        elif ok and (self._success_written is None or at - self._success_written > _SAMPLE):
            # a busy lane writes its last success at most once a second
            self._success_written = at
            await self._platforms.record_result(self.platform_id, ok=True, at=at, ret=0, msg=None)
