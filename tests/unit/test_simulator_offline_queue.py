"""The offline queue: order, what survives a lost connection, 1.6 transaction-id substitution."""

from __future__ import annotations

import pytest

from simulators.offline_queue import OfflineQueue, Role


def drain(queue: OfflineQueue) -> list[tuple[str, dict[str, object] | None]]:
    sent = []
    while (item := queue.head()) is not None:
        sent.append((item.action, queue.payload_for(item)))
        queue.pop(item)
    return sent


def test_fifo_and_volatile_messages_go_with_the_connection() -> None:
    queue = OfflineQueue()
    queue.push("StatusNotification", {"s": 1})
    queue.push("StartTransaction", {"n": 1}, role=Role.START)
    queue.push("StatusNotification", {"s": 2})
    queue.push("MeterValues", {"n": 2}, role=Role.UPDATE)
    dropped = queue.drop_volatile()
    assert [d.payload for d in dropped] == [{"s": 1}, {"s": 2}]
    assert [a for a, _ in drain(queue)] == ["StartTransaction", "MeterValues"]


def test_offline_start_gets_its_id_substituted_in_later_messages() -> None:
    queue = OfflineQueue()
    tx = queue.new_placeholder()
    assert tx < 0
    queue.push("StartTransaction", {"connectorId": 1}, role=Role.START, tx_ref=tx)
    queue.push("MeterValues", {"connectorId": 1, "transactionId": tx}, role=Role.UPDATE)
    queue.push("StopTransaction", {"transactionId": tx, "meterStop": 9}, role=Role.STOP)
    start = queue.head()
    assert start is not None and queue.payload_for(start) == {"connectorId": 1}
    queue.pop(start)
    queue.resolve(tx, 4711)  # the CSMS answered the replayed start
    assert drain(queue) == [
        ("MeterValues", {"connectorId": 1, "transactionId": 4711}),
        ("StopTransaction", {"transactionId": 4711, "meterStop": 9}),
    ]
    assert queue.placeholder_of(4711) == tx
    queue.forget(tx)
    assert queue.real_id(tx) is None and queue.placeholder_of(4711) is None


def test_two_sessions_offline_keep_their_own_ids() -> None:
    queue = OfflineQueue()
    a, b = queue.new_placeholder(), queue.new_placeholder()
    assert a != b
    queue.push("StartTransaction", {"c": 1}, role=Role.START, tx_ref=a)
    queue.push("StartTransaction", {"c": 2}, role=Role.START, tx_ref=b)
    queue.push("StopTransaction", {"transactionId": b}, role=Role.STOP)
    queue.push("StopTransaction", {"transactionId": a}, role=Role.STOP)
    for item, real in zip(queue.items()[:2], (10, 11), strict=True):
        queue.pop(item)
        queue.resolve(item.tx_ref or 0, real)
    assert drain(queue) == [
        ("StopTransaction", {"transactionId": 11}),
        ("StopTransaction", {"transactionId": 10}),
    ]


def test_replayed_start_resolving_twice_is_harmless() -> None:
    # The answer to a start was lost with the connection; the start is sent again and the CSMS
    # answers with the same id.
    queue = OfflineQueue()
    tx = queue.new_placeholder()
    queue.resolve(tx, 99)
    queue.resolve(tx, 99)
    queue.push("StopTransaction", {"transactionId": tx}, role=Role.STOP)
    assert drain(queue) == [("StopTransaction", {"transactionId": 99})]


def test_unresolved_ids() -> None:
    queue = OfflineQueue()
    tx = queue.new_placeholder()
    queue.push("MeterValues", {"connectorId": 1, "transactionId": tx}, role=Role.UPDATE)
    queue.push("StopTransaction", {"transactionId": tx}, role=Role.STOP)
    # The start was given up: readings still go (without an id), the stop cannot.
    assert drain(queue) == [("MeterValues", {"connectorId": 1}), ("StopTransaction", None)]


def test_real_ids_pass_untouched() -> None:
    queue = OfflineQueue()
    queue.push("StopTransaction", {"transactionId": 5}, role=Role.STOP)
    assert drain(queue) == [("StopTransaction", {"transactionId": 5})]


def test_full_queue_sheds_oldest_meter_values_never_starts_or_stops() -> None:
    queue = OfflineQueue(capacity=3)
    queue.push("StartTransaction", {"i": 0}, role=Role.START)
    queue.push("MeterValues", {"i": 1}, role=Role.UPDATE)
    queue.push("MeterValues", {"i": 2}, role=Role.UPDATE)
    shed = queue.push("MeterValues", {"i": 3}, role=Role.UPDATE)
    assert [s.payload for s in shed] == [{"i": 1}]
    shed = queue.push("StopTransaction", {"i": 4}, role=Role.STOP)
    assert [s.payload for s in shed] == [{"i": 2}]
    assert [i.payload["i"] for i in queue.items()] == [0, 3, 4]
    queue.push("StopTransaction", {"i": 5}, role=Role.STOP)
    queue.push("StartTransaction", {"i": 6}, role=Role.START)
    # only starts and stops left: over capacity rather than lose one of them
    assert [i.payload["i"] for i in queue.items()] == [0, 4, 5, 6]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        OfflineQueue(capacity=0)


def test_offline_flag_is_kept() -> None:
    queue = OfflineQueue()
    queue.push("TransactionEvent", {}, role=Role.UPDATE, offline=True)
    head = queue.head()
    assert head is not None and head.queued_offline and head.persistent


def test_persistent_count_follows_every_change() -> None:
    queue = OfflineQueue(capacity=100)
    for i in range(50):
        queue.push("MeterValues", {"i": i}, role=Role.UPDATE)
        queue.push("StatusNotification", {"i": i})
    assert queue.persistent_count() == 50 and len(queue) == 100
    queue.drop_volatile()
    head = queue.head()
    assert head is not None
    queue.pop(head)
    assert queue.persistent_count() == 49 == len(queue)
