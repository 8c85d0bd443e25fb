"""OWASP REST security headers on every response; HSTS only when the client used HTTPS."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Scope

from app.middleware.edge import EdgeMiddleware
from app.security.client_ip import TrustedProxies

Headers = tuple[tuple[bytes, bytes], ...]
# The headers to add when the route states its own caching policy, and when it does not.
Plan = tuple[Headers, Headers]
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
# Headers by which a route states its own caching policy; then no-store is not added.
CACHING_HEADERS = frozenset({b"cache-control", b"etag", b"expires", b"last-modified"})
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# The interactive docs load scripts and styles, so outside the API only framing is refused.
DOCS_CSP = b"frame-ancestors 'none'"


NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """The security-headers part of the edge layer (`app.middleware.edge`): the headers are
    added unless the route set them itself; X-XSS-Protection is never sent."""

    def __init__(self, *, proxies: TrustedProxies | None = None, api_prefix: str = "/api/") -> None:
        self.proxies = proxies or TrustedProxies(())
        self.api_prefix = api_prefix
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
        # The header sets, built once: API or not, HTTPS or not, each also with no-store.
        sets = {
            (api, https): (
                *common,
                (b"content-security-policy", API_CSP if api else DOCS_CSP),
                *((HSTS,) if https else ()),
            )
            for api in (True, False)
            for https in (True, False)
        }
        # Per request kind: the headers to add, and those to add when the route states no
        # caching policy of its own (API responses are then not stored).
        self._plans: dict[tuple[bool, bool], Plan] = {
            (api, https): (extra, (*extra, NO_STORE) if api else extra)
            for (api, https), extra in sets.items()
        }
        self._names = frozenset(name for name, _ in sets[(True, True)])

    def plan(self, scope: Scope) -> Plan:
        """The headers this request's response gets, chosen before the app runs."""
        is_api = scope["path"].startswith(self.api_prefix)
        return self._plans[(is_api, self.proxies.scheme(scope) == "https")]

    def added(self, headers: Iterable[tuple[bytes, bytes]], plan: Plan) -> Headers:
        """What to append to the app's response `headers`."""
        caching = False
        own: set[bytes] | None = None
        names = self._names
        for raw, _ in headers:
            name = raw.lower()
            if name in CACHING_HEADERS:
                caching = True
            elif name in names:
                own = own or set()
                own.add(name)
        added = plan[0] if caching else plan[1]
        return tuple(h for h in added if h[0] not in own) if own else added


class SecurityHeadersMiddleware(EdgeMiddleware):
    """The OWASP REST security headers on every response, as a middleware of its own."""

    def __init__(
        self, app: ASGIApp, *, proxies: TrustedProxies | None = None, api_prefix: str = "/api/"
    ) -> None:
        super().__init__(app, security=SecurityHeaders(proxies=proxies, api_prefix=api_prefix))
