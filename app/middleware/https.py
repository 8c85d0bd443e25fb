"""HTTPS enforcement: plain-HTTP GET/HEAD are redirected (308), other methods refused (403).

The scheme comes from X-Forwarded-Proto only when the peer is a trusted proxy. Probe and
scrape paths stay reachable over HTTP for GET and HEAD only, because the kubelet and
Prometheus talk to pods directly; anything else under them (an admin acknowledging an alert)
needs HTTPS like every other route. A redirect names only a host of ALLOWED_HOSTS: with
ALLOWED_HOSTS `*` any Host header could be sent back, so plain HTTP is refused instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import send_problem
from app.middleware.trusted_host import TrustedHostMiddleware
from app.security.client_ip import TrustedProxies

PROBE_PATHS = ("/api/v1/health", "/metrics")


class HTTPSEnforcementMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        proxies: TrustedProxies,
        exempt: tuple[str, ...] = PROBE_PATHS,
        allowed_hosts: Iterable[str] = ("*",),
    ) -> None:
        self.app = app
        self.proxies = proxies
        self.exempt = exempt
        self.hosts = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts)

    def _plain_http(self, scope: Scope) -> bool:
        """True only when the client is known to have used plain HTTP.

        A trusted proxy that sends no X-Forwarded-Proto leaves the scheme unknown; redirecting
        then would loop forever behind a TLS-terminating proxy, so such requests (and local
        calls from the pod itself) pass.
        """
        client = scope.get("client")
        if client and self.proxies.trusts(str(client[0])):
            proto = _header(scope, b"x-forwarded-proto")
            if proto is None:
                return False
            return proto.split(",")[0].strip().lower() != "https"
        return scope.get("scheme") != "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._plain_http(scope):
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        safe = scope.get("method") in ("GET", "HEAD")
        if safe and path.startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        target = self._https_target(scope, path) if safe else None
        if target is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 308,
                    "headers": [(b"location", target.encode("latin-1")), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await send_problem(
            scope,
            send,
            status=403,
            detail="This service only accepts HTTPS.",
            type_slug="https-required",
        )

    def _https_target(self, scope: Scope, path: str) -> str | None:
        """The same URL over HTTPS, when the Host is one the service answers for."""
        host = _host(scope)
        if not host or self.hosts.allow_any or not self.hosts.allows(host):
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        raw = scope.get("raw_path") or path.encode()
        return f"https://{host}{raw.decode('latin-1')}" + (f"?{query}" if query else "")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _host(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"host":
            host = str(value.decode("latin-1")).strip()
            # Only a plain host[:port] is echoed into Location.
            if host and all(ch.isalnum() or ch in ".-:[]" for ch in host):
                return host
            return None
    return None
