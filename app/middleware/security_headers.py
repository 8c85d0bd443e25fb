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


NO_STORE = (b"cache-control", b"no-store")


class SecurityHeadersMiddleware:
    """Adds the headers unless the route set them itself; never sends X-XSS-Protection."""

    def __init__(
        self, app: Any, *, proxies: TrustedProxies | None = None, api_prefix: str = "/api/"
    ) -> None:
        self.app = app
        self.proxies = proxies or TrustedProxies(())
        self.api_prefix = api_prefix
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
        # The header sets, built once: API or not, HTTPS or not, each also with no-store.
        self._sets = {
            (api, https): (
                *common,
                (b"content-security-policy", API_CSP if api else DOCS_CSP),
                *((HSTS,) if https else ()),
            )
            for api in (True, False)
            for https in (True, False)
        }
        self._with_no_store = {key: (*extra, NO_STORE) for key, extra in self._sets.items()}
        self._names = frozenset(name for name, _ in self._sets[(True, True)])

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = str(scope.get("path", "")).startswith(self.api_prefix)
        key = (is_api, self.proxies.scheme(scope) == "https")
        extra = self._sets[key]
        # API responses are not stored unless the route states its own caching policy.
        default = self._with_no_store[key] if is_api else extra
        names = self._names

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                caching = False
                own: set[bytes] | None = None
                for raw, _ in headers:
                    name = raw.lower()
                    if name in CACHING_HEADERS:
                        caching = True
                    elif name in names:
                        own = own or set()
                        own.add(name)
                added = extra if caching else default
                if own:
                    added = tuple(h for h in added if h[0] not in own)
                message["headers"] = [*headers, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
