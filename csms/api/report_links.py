"""Short-lived signed links that open one monthly report in a browser (pure).

A browser following a link cannot send the `Authorization` header, and there are no user
sessions (yet), so the dashboard asks for a link with its key (GET .../link, viewer) and
opens it. The link names one month, one version and one format, carries its expiry, and is
signed with HMAC-SHA256 under a key derived from the deployment's secret key (every node has
the same one, so any node opens a link any node made). It grants nothing else: no other
report, no other version, no write, and nothing after it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

LINK_TTL = timedelta(minutes=10)  # long enough to open it, short enough not to be a login
Format = Literal["html", "csv"]
_PURPOSE = b"csms monthly-report link v1"


def link_key(secret: bytes) -> bytes:
    """The signing key, separate from the sealing key it derives from (one key, one use)."""
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Link:
    month: str
    version: int
    format: Format
    expires: int  # Unix seconds

    def _message(self) -> bytes:
        return f"{self.month}\n{self.version}\n{self.format}\n{self.expires}".encode()

    def signature(self, key: bytes) -> str:
        digest = hmac.new(key, self._message(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def path(self, key: bytes) -> str:
        query = urlencode(
            {"format": self.format, "expires": self.expires, "signature": self.signature(key)}
        )
        return f"/reports/monthly/{self.month}/versions/{self.version}?{query}"

    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)


def new_link(month: str, version: int, format: Format, now: datetime) -> Link:
    return Link(month, version, format, int((now + LINK_TTL).timestamp()))


def refusal(link: Link, signature: str, key: bytes, now: datetime) -> str | None:
    """Why the link does not open (None: it opens). The signature is checked first, in
    constant time, so an expiry is only told to whoever holds a real link."""
    # bytes: compare_digest refuses str with non-ASCII characters, which anyone can send
    if not hmac.compare_digest(link.signature(key).encode(), signature.encode()):
        return "this link is not valid"
    if now.timestamp() >= link.expires:
        return "this link has expired"
    if link.expires - now.timestamp() > LINK_TTL.total_seconds() + 60:
        return "this link is not valid"  # never made here: links live LINK_TTL at most
    return None
