"""The crawl's DNS resolver: Scrapy's caching resolver, except for the names the URL policy checked.

``UrlPolicyMiddleware`` resolves a name once, checks every address and pins the name here to an
address it checked, so the connection goes where the check looked: a name that answers public for
the check and private a moment later (DNS rebinding) cannot reach the private address. A name
pinned to ``None`` (it did not resolve, or only to IPv6, which the crawler does not connect to)
fails as a DNS error instead of being looked up again. Names the policy does not check (private
addresses allowed, the source's own intranet host) resolve as Scrapy resolves them.

A crawl is one process and one source, so the pins are the crawl's; the reactor holds this
resolver (``TWISTED_DNS_RESOLVER`` in ``crawlers.settings``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.base import ReactorBase
from twisted.internet.error import DNSLookupError

from crawlers.policy import host_name


class PinnedResolver(CachingThreadedResolver):
    def __init__(self, reactor: ReactorBase, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.pins: dict[str, str | None] = {}

    def pin(self, host: str, addresses: Sequence[str]) -> None:
        """Connect to ``host`` at the first IPv4 address of ``addresses`` (the ones checked)."""
        ipv4 = [a for a in addresses if isinstance(ipaddress.ip_address(a.split("%", 1)[0]), ipaddress.IPv4Address)]
        self.pins[host_name(host)] = ipv4[0] if ipv4 else None

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:  # noqa: N802 (Twisted's name)
        key = host_name(name)
        if key not in self.pins:
            return super().getHostByName(name, timeout)
        address = self.pins[key]
        if address is None:
            return defer.fail(DNSLookupError(f"no IPv4 address for {name} when it was checked"))
        return defer.succeed(address)
