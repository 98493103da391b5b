"""Who is really on the other end: the peer address, or what trusted proxies say it forwarded.

Behind a reverse proxy every request comes from the proxy's address, so limits per source
would lump all clients together. `X-Forwarded-For` names the client, but anyone can send that
header: it is believed only when the peer is a configured trusted proxy, and then read from the
right (the entry the nearest proxy appended) leftwards past further trusted proxies. The first
address that is not a trusted proxy is the client; entries left of it were written by the client
and are never read (the same walk as uvicorn's and nginx's `real_ip_recursive`).

A trusted proxy that names no client (a layer-4 proxy passing TLS through, as the compose
nginx does for OCPP: no header can be added) leaves the client unknown: None, not the proxy's
address, so that limits per source do not lump every client of the proxy together.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# An IPv6 client controls at least a /64 (SLAAC, privacy addresses): limits per address would
# be a limit per guess. IPv4 addresses are counted one by one.
IPV6_SOURCE_PREFIX = 64


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.0.2.7, fd00::/8` -> networks (a bare address is a /32 or /128).

    Raises ValueError naming the entry that is not an address or network.
    """
    networks = []
    for raw in text.replace(";", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    """An address from a peer name or a forwarded entry (`[v6]:port`, `v4:port`), or None."""
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 192.0.2.1:443 (an IPv6 address has at least two colons)
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.partition("%")[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def via_trusted_proxy(peer: str | None, proxies: Sequence[Network]) -> bool:
    """Whether the peer is a trusted proxy, whose forwarded headers are believed."""
    address = _address(peer) if peer else None
    return address is not None and _trusted(address, proxies)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[Network]
) -> str | None:
    """The client's address as text: `peer` unless it is a trusted proxy, else the nearest
    address in the `X-Forwarded-For` values (several headers count as one list) that is not.

    None when it cannot be told: no peer address, or a trusted proxy that forwarded none or an
    unreadable one (the walk stops there: the entry is not the client's to choose). A chain of
    nothing but trusted proxies yields its leftmost entry.
    """
    address = _address(peer) if peer else None
    if address is None:
        return None
    if not proxies or not _trusted(address, proxies):
        return str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    if not hops:
        return None
    for hop in reversed(hops):
        forwarded = _address(hop)
        if forwarded is None:
            return None
        address = forwarded
        if not _trusted(address, proxies):
            break
    return str(address)


def source_key(address: str) -> str:
    """What limits per source count by: the address itself, or its /64 for IPv6."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((parsed, IPV6_SOURCE_PREFIX), strict=False)
        return str(network)
    return str(parsed) if parsed is not None else address[:64]
