"""The station's outbox: messages in the order they were made, transaction messages kept offline.

OCPP 1.6 §4.7/§3.11 and 2.0.1 E04/E12: transaction-related messages (Start/StopTransaction,
MeterValues of a transaction, TransactionEvent) are kept while the CSMS is unreachable and sent
in their original order once it is reachable again; other messages only make sense now and are
dropped with the connection.

1.6 subtlety: a StartTransaction queued offline has no transactionId yet (the CSMS assigns it).
The session uses a local placeholder (a negative number, never a CSMS id) in its MeterValues and
StopTransaction; once the replayed StartTransaction is answered, `resolve()` maps the placeholder
to the real id and every later message is sent with it. The CSMS answers a replayed start with the
same id, so a start sent twice (answer lost with the connection) resolves to the same id.

Pure: no I/O, no event loop; the sender in `station.outbox` drives it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    START = "start"  # opens a transaction (1.6 StartTransaction, 2.0.1 Started)
    UPDATE = "update"  # meter values of a transaction (may be shed when the queue is full)
    STOP = "stop"  # closes a transaction (never shed)
    OTHER = "other"  # status, notifications: meaningful only while connected


Ack = Callable[[dict[str, Any]], None]


@dataclass(slots=True, eq=False)
class Queued:
    seq: int
    action: str
    payload: dict[str, Any]
    role: Role
    persistent: bool
    tx_ref: int | None = None  # 1.6 placeholder this message refers to (or that a start resolves)
    attempts: int = 0  # failed deliveries (CALLERROR or no answer), not lost connections
    on_ack: Ack | None = None
    queued_offline: bool = False


class OfflineQueue:
    """FIFO of outgoing messages; bounded for meter values, never for starts and stops."""

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._items: deque[Queued] = deque()
        self._persistent = 0  # how many items are persistent (kept, not recounted per push)
        self._seq = 0
        self._next_placeholder = -1
        self._real: dict[int, int] = {}  # placeholder -> CSMS transaction id
        self._local: dict[int, int] = {}  # CSMS transaction id -> placeholder

    def __len__(self) -> int:
        return len(self._items)

    def persistent_count(self) -> int:
        return self._persistent

    def items(self) -> list[Queued]:
        return list(self._items)

    def new_placeholder(self) -> int:
        """A local transaction id for a 1.6 session whose real id is not known yet."""
        placeholder = self._next_placeholder
        self._next_placeholder -= 1
        return placeholder

    def push(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        role: Role = Role.OTHER,
        tx_ref: int | None = None,
        on_ack: Ack | None = None,
        offline: bool = False,
    ) -> list[Queued]:
        """Append a message; return the meter-value messages shed to stay within capacity."""
        self._seq += 1
        item = Queued(
            self._seq,
            action,
            payload,
            role,
            persistent=role is not Role.OTHER,
            tx_ref=tx_ref,
            on_ack=on_ack,
            queued_offline=offline,
        )
        self._items.append(item)
        self._persistent += item.persistent
        shed: list[Queued] = []
        while self._persistent > self.capacity:
            # The head may be in flight right now; the oldest update behind it goes.
            oldest_update = next(
                (i for i in self._items if i.role is Role.UPDATE and i is not self._items[0]),
                None,
            )
            if oldest_update is None:
                break  # only starts and stops left: they are never shed
            self._items.remove(oldest_update)
            self._persistent -= 1
            shed.append(oldest_update)
        return shed

    def head(self) -> Queued | None:
        return self._items[0] if self._items else None

    def pop(self, item: Queued) -> None:
        """Remove `item` (delivered or given up); it is normally the head."""
        self._items.remove(item)
        self._persistent -= item.persistent

    def drop_volatile(self) -> list[Queued]:
        """The connection is gone: forget the messages that only make sense while connected."""
        dropped = [i for i in self._items if not i.persistent]
        if dropped:
            self._items = deque(i for i in self._items if i.persistent)
        return dropped

    def resolve(self, placeholder: int, real_id: int) -> None:
        """The CSMS answered the start of `placeholder` with `real_id` (idempotent)."""
        self._real[placeholder] = real_id
        self._local[real_id] = placeholder

    def real_id(self, placeholder: int) -> int | None:
        return self._real.get(placeholder)

    def placeholder_of(self, real_id: int) -> int | None:
        return self._local.get(real_id)

    def forget(self, placeholder: int) -> None:
        """The transaction is over and delivered: drop its id mapping."""
        real = self._real.pop(placeholder, None)
        if real is not None:
            self._local.pop(real, None)

    def payload_for(self, item: Queued) -> dict[str, Any] | None:
        """The payload to send now, placeholders replaced by real ids.

        None when the message cannot be sent at all: a StopTransaction whose start was never
        answered has no id the CSMS would know. MeterValues of such a session go without
        transactionId (1.6 §6.30 allows it), so their readings are not lost.
        """
        placeholder = item.payload.get("transactionId")
        if not isinstance(placeholder, int) or placeholder >= 0:
            return item.payload
        real = self._real.get(placeholder)
        if real is not None:
            return {**item.payload, "transactionId": real}
        if item.role is Role.STOP:
            return None
        return {k: v for k, v in item.payload.items() if k != "transactionId"}
