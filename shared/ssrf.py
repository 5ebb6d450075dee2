"""Outbound URLs a partner gives us (webhook endpoints): refuse the ones that reach inside.

A URL is acceptable when it is HTTPS, carries no credentials, and every address its host
resolves to is a public unicast address: not private (RFC 1918, unique local), loopback,
link-local (which holds the cloud metadata address 169.254.169.254), multicast, reserved,
unspecified, shared (100.64.0.0/10), documentation, or an IPv6 form of one of those
(IPv4-mapped, 6to4, Teredo). ``allow_private`` (development only) accepts ``http`` and any
address, so a receiver on localhost can be tried.

The check is made when the URL is registered and again before every delivery (DNS can
change in between); :func:`resolve` returns the addresses it checked, and the sender
connects to one of those rather than resolving again (no rebinding between check and use).
No domain code here: plain rules on URLs and addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Names that only ever mean a cloud provider's instance metadata service.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})
#: Metadata addresses not covered by the ranges below (Alibaba Cloud's sits in 100.64.0.0/10
#: and AWS's IPv6 one in fd00::/8, both refused anyway); listed so the intent is explicit.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254",
))
MAX_URL_LENGTH = 2000


class UnsafeUrl(ValueError):
    """Why the URL is refused (safe to show the caller: it names no internal address)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts and the public addresses its host resolved to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[Address, ...]


def blocked_reason(address: Address) -> str | None:
    """Why ``address`` may not be called, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return blocked_reason(embedded) or ("an IPv6 transition address" if address.teredo else None)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for test, why in (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
    ):
        if test:
            return why
    if not address.is_global:
        return "not a public address"
    return None


def parse(url: str, *, allow_private: bool = False) -> SplitResult:
    """The URL's parts, or :class:`UnsafeUrl` for one we never call, whatever it resolves to."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise UnsafeUrl("The URL cannot be read.") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeUrl("The URL must use https.")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("The URL may not carry a user name or password; authenticate with the signature.")
    if parts.fragment:
        raise UnsafeUrl("The URL may not have a fragment (#...).")
    if not allow_private and parts.hostname.rstrip(".").lower() in METADATA_HOSTS:
        raise UnsafeUrl("The URL's host is a cloud metadata service.")
    return parts


async def _lookup(host: str, port: int) -> list[Address]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def resolve(url: str, *, allow_private: bool = False, dns_seconds: float = 5.0) -> Target:
    """Check ``url`` and resolve its host; every address must be public (unless ``allow_private``)."""
    parts = parse(url, allow_private=allow_private)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await asyncio.wait_for(_lookup(host, port), dns_seconds)
        except (OSError, UnicodeError, TimeoutError) as exc:
            raise UnsafeUrl("The URL's host name does not resolve.") from exc
        if not addresses:
            raise UnsafeUrl("The URL's host name does not resolve.")
    if not allow_private:
        for address in addresses:
            if (why := blocked_reason(address)) is not None:
                raise UnsafeUrl(f"The URL's host resolves to {why}; only public addresses are called.")
    return Target(url=url, scheme=parts.scheme, host=host, port=port, addresses=tuple(addresses))
