"""Each security middleware on a tiny inline app, asserting on real responses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.cors import CORSMiddleware
from app.middleware.https import HTTPSEnforcementMiddleware
from app.middleware.security_headers import SecurityHeadersMiddleware
from app.middleware.trusted_host import TrustedHostMiddleware
from app.security.client_ip import TrustedProxies
from tests.support.timing import scaled

PROXIES = TrustedProxies(["10.0.0.0/8"])
received: list[int] = []


async def echo(request: Request) -> Response:
    body = await request.body()
    received.append(len(body))
    return JSONResponse({"bytes": len(body)})


async def cached(_: Request) -> Response:
    return PlainTextResponse("team", headers={"Cache-Control": "max-age=60", "ETag": '"v1"'})


def tiny_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/api/v1/echo", echo, methods=["GET", "POST", "PUT"]),
            Route("/api/v1/cached", cached),
            Route("/docs", cached),
        ]
    )


def client(
    app: Any, peer: str = "198.51.100.1", base: str = "http://api.test"
) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 1234))
    return httpx.AsyncClient(transport=transport, base_url=base)


async def test_security_headers_follow_the_owasp_rest_set() -> None:
    app = SecurityHeadersMiddleware(tiny_app(), proxies=PROXIES)
    async with client(app) as c:
        response = await c.get("/api/v1/echo")
        own_caching = await c.get("/api/v1/cached")
        docs = await c.get("/docs")
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert "x-xss-protection" not in headers
    assert "strict-transport-security" not in headers  # plain HTTP
    assert own_caching.headers["cache-control"] == "max-age=60"
    assert own_caching.headers["etag"] == '"v1"'
    assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"


async def test_hsts_only_over_https_or_from_a_trusted_proxy_saying_so() -> None:
    app = SecurityHeadersMiddleware(tiny_app(), proxies=PROXIES)
    async with client(app, base="https://api.test") as c:
        assert "max-age=" in (await c.get("/api/v1/echo")).headers["strict-transport-security"]
    proto = {"X-Forwarded-Proto": "https"}
    async with client(app, peer="10.1.2.3") as c:
        assert "strict-transport-security" in (await c.get("/api/v1/echo", headers=proto)).headers
    async with client(app, peer="198.51.100.1") as c:
        spoofed = await c.get("/api/v1/echo", headers=proto)
        assert "strict-transport-security" not in spoofed.headers


async def test_https_enforcement_redirects_reads_and_refuses_writes() -> None:
    app = HTTPSEnforcementMiddleware(tiny_app(), proxies=PROXIES, allowed_hosts=["api.test"])
    async with client(app) as c:
        get = await c.get("/api/v1/echo?x=1")
        post = await c.post("/api/v1/echo", content=b"{}")
        probe = await c.get("/api/v1/health/liveness")
    assert get.status_code == 308
    assert get.headers["location"] == "https://api.test/api/v1/echo?x=1"
    assert post.status_code == 403
    assert post.headers["content-type"] == "application/problem+json"
    assert probe.status_code == 404  # passed through to the app, not redirected
    async with client(app, base="https://api.test") as c:
        assert (await c.post("/api/v1/echo", content=b"{}")).status_code == 200


async def test_https_redirect_never_names_a_host_outside_allowed_hosts() -> None:
    for allowed in (["*"], ["api.test"]):
        app = HTTPSEnforcementMiddleware(tiny_app(), proxies=PROXIES, allowed_hosts=allowed)
        async with client(app) as c:
            evil = await c.get("/api/v1/echo", headers={"Host": "evil.example"})
        assert evil.status_code == 403
        assert "location" not in evil.headers
        assert evil.headers["content-type"] == "application/problem+json"


async def test_only_probe_reads_are_exempt_from_https() -> None:
    app = HTTPSEnforcementMiddleware(tiny_app(), proxies=PROXIES, allowed_hosts=["api.test"])
    async with client(app) as c:
        probe = await c.get("/api/v1/health")
        acknowledge = await c.post("/api/v1/health/alerts/abc/acknowledge")
    assert probe.status_code == 404  # passed through to the app
    assert acknowledge.status_code == 403
    assert acknowledge.headers["content-type"] == "application/problem+json"


async def test_https_enforcement_trusts_forwarded_proto_only_from_trusted_proxies() -> None:
    app = HTTPSEnforcementMiddleware(tiny_app(), proxies=PROXIES)
    https = {"X-Forwarded-Proto": "https"}
    async with client(app, peer="10.9.9.9") as c:
        assert (await c.post("/api/v1/echo", headers=https)).status_code == 200
        plain = await c.post("/api/v1/echo", headers={"X-Forwarded-Proto": "http"})
        assert plain.status_code == 403
    async with client(app, peer="198.51.100.1") as c:
        assert (await c.post("/api/v1/echo", headers=https)).status_code == 403


async def test_trusted_host_refuses_unknown_hosts() -> None:
    app = TrustedHostMiddleware(tiny_app(), allowed_hosts=["api.test", "*.btai.dev"])
    async with client(app) as c:
        assert (await c.get("/api/v1/echo")).status_code == 200
        ok = await c.get("/api/v1/echo", headers={"Host": "eu.btai.dev:8443"})
        assert ok.status_code == 200
        bad = await c.get("/api/v1/echo", headers={"Host": "evil.example"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"


async def test_cors_allows_listed_origins_only() -> None:
    app = CORSMiddleware(tiny_app(), origins=["https://app.btai.dev"])
    preflight = {"Access-Control-Request-Method": "POST"}
    async with client(app) as c:
        ok = await c.options(
            "/api/v1/echo", headers={"Origin": "https://app.btai.dev", **preflight}
        )
        bad = await c.options(
            "/api/v1/echo", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = await c.get("/api/v1/echo", headers={"Origin": "https://evil.example"})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.btai.dev"
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in simple.headers
    with pytest.raises(ValueError, match="explicitly"):
        CORSMiddleware(tiny_app(), origins=["*"])


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"x" * piece


async def test_body_limit_refuses_large_content_length_without_reading() -> None:
    received.clear()
    app = BodyLimitMiddleware(tiny_app(), max_bytes=1024)
    async with client(app) as c:
        response = await c.post("/api/v1/echo", content=b"x" * 2048)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["max_bytes"] == 1024
    assert received == []


async def test_body_limit_counts_a_chunked_body_as_it_streams() -> None:
    received.clear()
    pulled = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal pulled
        async for piece in chunks(20 * 1024 * 1024):
            pulled += len(piece)
            yield piece

    app = BodyLimitMiddleware(tiny_app(), max_bytes=1024 * 1024)
    async with client(app) as c:
        response = await c.post("/api/v1/echo", content=counted())
    assert response.status_code == 413
    assert received == []  # the route never got a body
    assert "content-length" not in response.request.headers
    small = BodyLimitMiddleware(tiny_app(), max_bytes=1024 * 1024)
    async with client(small) as c:
        ok = await c.post("/api/v1/echo", content=chunks(512 * 1024))
    assert ok.json() == {"bytes": 512 * 1024}


def echo_scope(headers: list[tuple[bytes, bytes]], http_version: str = "1.1") -> dict[str, Any]:
    """The ASGI scope of a POST to the echo route with `headers`."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/echo",
        "raw_path": b"/api/v1/echo",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"api.test"), *headers],
        "client": ("198.51.100.1", 1),
        "server": ("api.test", 80),
    }


async def call_raw(
    headers: list[tuple[bytes, bytes]], body: bytes, http_version: str = "1.1"
) -> httpx.Response:
    """Drive BodyLimitMiddleware with hand-built ASGI messages (httpx would fix the headers)."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = echo_scope(headers, http_version)
    await BodyLimitMiddleware(tiny_app(), max_bytes=1024 * 1024)(scope, receive, send)
    start = sent[0]
    content = b"".join(m.get("body", b"") for m in sent[1:])
    return httpx.Response(start["status"], headers=start["headers"], content=content)


@pytest.mark.parametrize(
    ("declared", "actual", "status"),
    [("10", 500, 400), ("5000", 100, 400), ("abc", 10, 400), ("-1", 10, 400), ("99999999", 1, 413)],
)
async def test_body_limit_refuses_a_false_content_length(
    declared: str, actual: int, status: int
) -> None:
    received.clear()
    response = await call_raw([(b"content-length", declared.encode())], b"x" * actual)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert received == []


async def test_body_limit_counts_http2_bodies_that_declare_no_length() -> None:
    received.clear()
    response = await call_raw([], b"x" * (2 * 1024 * 1024), http_version="2")
    assert response.status_code == 413
    assert received == []
    ok = await call_raw([], b"x" * 10, http_version="2")
    assert ok.json() == {"bytes": 10}


def stalled_scope() -> dict[str, Any]:
    return echo_scope([(b"content-length", b"100")])


async def test_a_body_that_stalls_is_answered_408_and_the_next_one_is_read() -> None:
    received.clear()
    app = BodyLimitMiddleware(tiny_app(), max_bytes=1024, read_timeout=0.2)
    never = asyncio.Event()
    sent: list[dict[str, Any]] = []
    first = [{"type": "http.request", "body": b"x" * 10, "more_body": True}]

    async def stalling() -> dict[str, Any]:
        if first:
            return first.pop()
        await never.wait()  # the rest of the body never comes
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    current = asyncio.current_task()
    assert current is not None
    async with asyncio.timeout(scaled(30)):  # a deadline for the test, should the watch fail
        await app(stalled_scope(), stalling, send)  # in this task: the watch cancels this one
        assert current.cancelling() == 0  # and takes its cancel back
    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["type"].endswith("/body-timeout")
    assert received == []
    async with client(app) as c:  # the watch still serves the bodies that follow
        assert (await c.post("/api/v1/echo", content=b"x" * 100)).json() == {"bytes": 100}


async def test_a_cancel_that_is_not_the_stall_watchs_goes_through() -> None:
    app = BodyLimitMiddleware(tiny_app(), max_bytes=1024, read_timeout=30)
    never = asyncio.Event()

    async def waiting() -> dict[str, Any]:
        await never.wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError(f"nothing is answered: {message}")

    task = asyncio.create_task(app(stalled_scope(), waiting, send))
    await asyncio.sleep(0)
    while not app.stall_watch or not app.stall_watch.waiting:  # the read has begun
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert app.stall_watch.waiting == {}
