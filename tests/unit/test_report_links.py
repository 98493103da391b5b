"""Signed report links open one report version in one format, for 10 minutes, and nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from csms.api.report_links import LINK_TTL, Link, link_key, new_link, refusal

SECRET = bytes(range(32))
KEY = link_key(SECRET)
MADE = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
LINK = new_link("2026-11", 2, "html", MADE)
SIGNATURE = LINK.signature(KEY)


def test_the_key_is_not_the_sealing_key() -> None:
    assert KEY != SECRET and len(KEY) == 32 and link_key(SECRET) == KEY


def test_a_link_names_everything_it_grants() -> None:
    url = urlsplit(LINK.path(KEY))
    assert url.path == "/reports/monthly/2026-11/versions/2"
    query = parse_qs(url.query)
    assert query["format"] == ["html"] and query["signature"] == [SIGNATURE]
    assert int(query["expires"][0]) == int((MADE + LINK_TTL).timestamp())
    assert LINK.expires_at() == MADE + LINK_TTL


@pytest.mark.parametrize(
    ("link", "signature", "key", "now", "why"),
    [
        (LINK, SIGNATURE, KEY, MADE, None),
        (LINK, SIGNATURE, KEY, MADE + LINK_TTL - timedelta(seconds=1), None),
        (LINK, SIGNATURE, KEY, MADE + LINK_TTL, "this link has expired"),
        # another month, version or format, or a later expiry, is not what was signed
        (replace(LINK, month="2026-10"), SIGNATURE, KEY, MADE, "this link is not valid"),
        (replace(LINK, version=1), SIGNATURE, KEY, MADE, "this link is not valid"),
        (replace(LINK, format="csv"), SIGNATURE, KEY, MADE, "this link is not valid"),
        (replace(LINK, expires=LINK.expires + 3600), SIGNATURE, KEY, MADE,
         "this link is not valid"),
        # another deployment's key
        (LINK, SIGNATURE, link_key(bytes(32)), MADE, "this link is not valid"),
        (LINK, "", KEY, MADE, "this link is not valid"),
        (LINK, "签名" * 20, KEY, MADE, "this link is not valid"),  # not ASCII: no crash
        # an expired link with a wrong signature says nothing about its expiry
        (LINK, "x" * 43, KEY, MADE + timedelta(days=1), "this link is not valid"),
    ],
)  # fmt: skip
def test_refusal(link: Link, signature: str, key: bytes, now: datetime, why: str | None) -> None:
    assert refusal(link, signature, key, now) == why


def test_a_link_living_longer_than_links_live_was_not_made_here() -> None:
    long = Link("2026-11", 2, "html", int((MADE + timedelta(hours=2)).timestamp()))
    assert refusal(long, long.signature(KEY), KEY, MADE) == "this link is not valid"
