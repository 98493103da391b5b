"""The operator hears in time that the holiday calendar runs out: a gauge for alerts and a
warning a day from a month before its last day (past it, Spring Festival is a plain weekday for
shared piles and holiday tariffs)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY

from csms.clock import running_from
from csms.services.sharing import AccessService
from csms.sharing.calendar import calendar_from, default_calendar
from csms.store.sharing import SharingStore

CALENDAR_2027 = {
    "name": "2027 test calendar",
    "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-01"}],
    "adjusted_workdays": [],
}


class _Store:
    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document

    async def calendar_document(self) -> dict[str, Any] | None:
        return self.document

    async def put_calendar(self, document: dict[str, Any], by: str) -> None:
        self.document = document

    async def special_stations(self) -> set[str]:
        return set()


def _days_left() -> float | None:
    return REGISTRY.get_sample_value("csms_holiday_calendar_days_left")


def _access(document: dict[str, Any] | None = None) -> AccessService:
    return AccessService(cast(SharingStore, _Store(document)))


def test_days_left_counts_today_and_the_last_day() -> None:
    calendar = default_calendar()
    assert calendar.last_day == date(2026, 12, 31)
    assert calendar.days_left(date(2026, 12, 31)) == 1
    assert calendar.days_left(date(2026, 12, 1)) == 31
    assert calendar.days_left(date(2027, 1, 1)) == 0
    assert calendar.days_left(date(2023, 12, 31)) == 0  # before its first year: unknown too
    assert calendar_from({"name": "empty"}).days_left(date(2026, 6, 1)) == 0


async def test_no_warning_while_the_calendar_has_time_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    access = _access()
    with caplog.at_level(logging.WARNING), running_from(datetime(2026, 6, 1, 4, tzinfo=UTC)):
        await access.load_calendar()
    assert _days_left() == 214
    assert "holiday calendar" not in caplog.text


async def test_a_month_before_the_end_it_warns_once_a_day(
    caplog: pytest.LogCaptureFixture,
) -> None:
    access = _access()
    with caplog.at_level(logging.WARNING):
        # 2026-12-08 00:30 in Shanghai is still 12-07 in UTC: the network's day counts
        with running_from(datetime(2026, 12, 7, 16, 30, tzinfo=UTC)):
            await access.load_calendar()
            await access.load_calendar()  # every minute: said once that day
        assert _days_left() == 24
        assert caplog.text.count("ends on 2026-12-31, in 24 days") == 1
        with running_from(datetime(2026, 12, 8, 16, 30, tzinfo=UTC)):
            await access.load_calendar()
        assert "ends on 2026-12-31, in 23 days" in caplog.text


async def test_past_its_last_day_it_says_so_and_a_new_calendar_ends_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    access = _access()
    with caplog.at_level(logging.WARNING), running_from(datetime(2027, 1, 2, 4, tzinfo=UTC)):
        await access.load_calendar()
        assert _days_left() == 0
        assert "does not cover 2027" in caplog.text
        caplog.clear()
        await access.replace_calendar(CALENDAR_2027, by="test")
        assert _days_left() == 364
        assert "holiday calendar" not in caplog.text
