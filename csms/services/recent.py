"""A set of ids read from the database at most every few seconds, shared by many callers.

A boot storm asks "is this station special?" thousands of times a second; the answer is
almost always no, and one query every few seconds answers them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from csms.clock import monotonic


class RecentSet:
    def __init__(self, load: Callable[[], Awaitable[Iterable[str]]], max_age: float) -> None:
        self._load = load
        self._max_age = max_age
        self._items: set[str] = set()
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def contains(self, item: str) -> bool:
        if self._loaded_at is None or monotonic() - self._loaded_at > self._max_age:
            async with self._lock:  # concurrent callers wait for one load
                if self._loaded_at is None or monotonic() - self._loaded_at > self._max_age:
                    self._items = set(await self._load())
                    self._loaded_at = monotonic()
        return item in self._items

    def add(self, item: str) -> None:
        """Known to belong now (changed on this node): no need to wait for the next load."""
        self._items.add(item)
