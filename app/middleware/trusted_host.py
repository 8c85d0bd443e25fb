"""Refuse requests whose Host header names no host we serve (ALLOWED_HOSTS)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import send_problem


class TrustedHostMiddleware:
    """`example.com` matches exactly, `*.example.com` any subdomain, `*` everything."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        hosts = [h.strip().lower() for h in allowed_hosts if h.strip()]
        self.allow_any = "*" in hosts
        self.exact = frozenset(h for h in hosts if not h.startswith("*."))
        self.suffixes = tuple(h[1:] for h in hosts if h.startswith("*."))

    def allows(self, host: str) -> bool:
        if self.allow_any:
            return True
        name = _strip_port(host.lower())
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allow_any:
            await self.app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        await send_problem(
            scope, send, status=400, detail="Invalid Host header.", type_slug="invalid-host"
        )


def _strip_port(host: str) -> str:
    if host.startswith("["):  # [::1]:8000
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
