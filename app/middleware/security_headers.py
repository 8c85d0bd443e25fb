"""OWASP REST security headers on every response; HSTS only when the client used HTTPS."""

from __future__ import annotations

from typing import Any

from app.security.client_ip import TrustedProxies

Scope = dict[str, Any]
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
# Headers by which a route states its own caching policy; then no-store is not added.
CACHING_HEADERS = frozenset({b"cache-control", b"etag", b"expires", b"last-modified"})
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# The interactive docs load scripts and styles, so outside the API only framing is refused.
DOCS_CSP = b"frame-ancestors 'none'"


class SecurityHeadersMiddleware:
    def __init__(
        self, app: Any, *, proxies: TrustedProxies | None = None, api_prefix: str = "/api/"
    ) -> None:
        self.app = app
        self.proxies = proxies or TrustedProxies(())
        self.api_prefix = api_prefix
        self._common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = str(scope.get("path", "")).startswith(self.api_prefix)
        https = self.proxies.scheme(scope) == "https"
        extra = [*self._common, (b"content-security-policy", API_CSP if is_api else DOCS_CSP)]
        if https:
            extra.append(HSTS)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", ())
                    if k.lower() != b"x-xss-protection"
                ]
                present = {k.lower() for k, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                if is_api and not present & CACHING_HEADERS:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
