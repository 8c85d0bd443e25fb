"""The client's address and scheme, believing X-Forwarded-* only from trusted proxies.

A client can write any X-Forwarded-For it likes; only the entries appended by proxies we
trust are facts. So the header is read right to left, skipping trusted proxies, and the
first untrusted address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()
        )
        self._cache: dict[str, bool] = {}

    def trusts(self, address: str) -> bool:
        known = self._cache.get(address)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            result = False
        else:
            result = any(ip in network for network in self.networks)
        if len(self._cache) < 4096:
            self._cache[address] = result
        return result

    def client_ip(self, scope: Mapping[str, Any]) -> str:
        peer = _peer(scope)
        if not self.trusts(peer):
            return peer
        forwarded = _header(scope, b"x-forwarded-for")
        if not forwarded:
            return peer
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not _is_ip(hop):
                return peer  # a garbled header is not evidence of anything
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer

    def scheme(self, scope: Mapping[str, Any]) -> str:
        """`https` or `http` as the client used it: X-Forwarded-Proto from trusted peers only."""
        scheme = str(scope.get("scheme", "http"))
        if self.trusts(_peer(scope)):
            proto = _header(scope, b"x-forwarded-proto")
            if proto:
                # With several proxies the first hop is the client's own scheme.
                first = proto.split(",")[0].strip().lower()
                if first in ("http", "https"):
                    return first
        return scheme


def _peer(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    # A plain loop: read on every request, and most requests carry no such header.
    found: str | None = None
    for key, value in scope.get("headers", ()):
        if key == name:
            text = value.decode("latin-1")
            found = text if found is None else f"{found},{text}"
    return found
