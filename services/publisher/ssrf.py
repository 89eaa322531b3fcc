"""Webhook target guard: refuse URLs whose host resolves to loopback, private, link-local or reserved addresses.

Checked when a subscription is created, again before every delivery (a name may be re-pointed), and at
connect time: ``GuardedResolver`` is the resolver aiohttp connects with, so the addresses checked are the
addresses used, and a name that answers a public address to the check and a private one to the connection
(DNS rebinding) is refused. IPv6 transition ranges that carry an IPv4 address inside (6to4, Teredo, NAT64,
IPv4-compatible) are refused outright, since the embedded address may be private.
``allow_private`` (NOF_PUBLISHER_WEBHOOK_ALLOW_PRIVATE_TARGETS, development and tests only) lifts the
rule; ``allowlist`` names CIDRs or host names that are always permitted.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from services.publisher.errors import TargetRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: IPv6 ranges that tunnel or translate to IPv4: the IPv4 address they carry can be private.
TRANSITION_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "2002::/16",       # 6to4
    "2001::/32",       # Teredo
    "64:ff9b::/96",    # NAT64, well-known prefix
    "64:ff9b:1::/48",  # NAT64, local use
    "::/96",           # IPv4-compatible (deprecated)
))


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif any(ip in net for net in TRANSITION_NETWORKS):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


class TargetGuard:
    def __init__(self, allow_private: bool = False, allowlist: Sequence[str] = ()) -> None:
        self.allow_private = allow_private
        self.networks, self.hosts = [], set()
        for item in allowlist:
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.hosts.add(item.lower())

    def permits(self, host: str, ip: IPAddress) -> bool:
        """Whether a connection to ``ip`` (an address of ``host``) is allowed."""
        return (self.allow_private or host.lower() in self.hosts or is_public(ip)
                or any(ip in net for net in self.networks))

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]

    async def check(self, url: str) -> None:
        """Raise TargetRefused unless ``url`` is an http(s) URL whose every address is allowed."""
        try:
            parts = urlsplit(url)
            port = parts.port  # raises ValueError when out of range or not a number
        except ValueError as exc:  # e.g. an unclosed IPv6 bracket, port 99999 or "abc"
            raise TargetRefused(f"webhook URL is not a valid URL ({exc}): {url!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused(f"webhook URL must be http(s) with a host: {url!r}")
        if parts.username or parts.password:
            raise TargetRefused("webhook URL must not carry credentials")
        host = parts.hostname.lower()
        if self.allow_private or host in self.hosts:
            return
        try:
            addresses = await self.resolve(host, port or (443 if parts.scheme == "https" else 80))
        except UnicodeError as exc:  # IDNA encoding refused the name (an empty or over-long label)
            raise TargetRefused(f"webhook host {host!r} is not a valid host name: {exc}") from None
        except (OSError, ValueError) as exc:  # ValueError: e.g. an embedded NUL character
            raise TargetRefused(f"webhook host {host!r} does not resolve: {exc}") from None
        for ip in addresses:
            if not self.permits(host, ip):
                raise TargetRefused(
                    f"webhook host {host!r} resolves to {ip}, a private, loopback or reserved address; "
                    "set NOF_PUBLISHER_WEBHOOK_ALLOWLIST (or, in development, "
                    "NOF_PUBLISHER_WEBHOOK_ALLOW_PRIVATE_TARGETS) to permit it"
                )


class ConnectRefused(OSError):
    """A webhook host resolved, at connect time, to an address the guard refuses."""


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, with every answer checked by the guard before a connection is made."""

    def __init__(self, guard: TargetGuard, inner: AbstractResolver | None = None) -> None:
        self.guard = guard
        self.inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        for result in results:
            ip = ipaddress.ip_address(result["host"].split("%")[0])
            if not self.guard.permits(host, ip):
                raise ConnectRefused(errno.EACCES, f"webhook host {host!r} resolved to {ip} at connect time, a "
                                     "private, loopback or reserved address; the connection was not made")
        return results

    async def close(self) -> None:
        await self.inner.close()
