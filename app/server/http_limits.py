"""Limits on the request head (request line, header count, header bytes) under uvicorn.

httptools accepts a head of any size and joins a header's pieces by `+=`, so one 64 MB header
costs a worker far more than 64 MB before the app ever sees it. The protocol below counts
the head's bytes as they arrive, before they reach the parser, and answers 431 (header
fields) or 400 (request line) with problem+json and closes the connection once a limit is
passed; nothing of the oversized head is kept.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.server.options import HeadLimits

HEAD_END = b"\r\n\r\n"


TITLES = {400: "Bad Request", 431: "Request Header Fields Too Large"}
SLUGS = {400: "request-line-too-long", 431: "header-fields-too-large"}


def _problem(status: int, detail: str) -> bytes:
    """A problem+json body, written here because the app never sees these requests."""
    return json.dumps(
        {
            "type": f"https://btai.dev/problems/{SLUGS[status]}",
            "title": TITLES[status],
            "status": status,
            "detail": detail,
            "instance": "",
            "request_id": uuid.uuid4().hex,
        }
    ).encode()


class HeadTooLarge(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing heads past `limits`."""

    def __init__(self, *args: Any, limits: HeadLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        # The limits as plain attributes: the callbacks below run for every request and header.
        self._max_head = limits.total
        self._max_line = limits.request_line
        self._max_headers = limits.headers
        self._max_header_bytes = limits.header_bytes
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""
        self._refused: HeadTooLarge | None = None
        self._header_total = 0

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            window = self._tail + data
            end = window.find(HEAD_END)
            if end == -1:
                self._head_bytes += len(data)
                self._tail = window[-3:]
            else:
                self._head_bytes += end + len(HEAD_END) - len(self._tail)
                self._in_head = False
                self._tail = b""
            if self._head_bytes > self._max_head:
                self._refuse(HeadTooLarge(431, self._too_many_bytes()))
                return
        # The base class named, not super(): these run for every request and header.
        HttpToolsProtocol.data_received(self, data)
        if self._refused is not None:
            self._refuse(self._refused)

    def send_400_response(self, msg: str) -> None:
        # A parser error raised by our own callbacks is the limit, not a malformed request.
        if self._refused is not None:
            self._refuse(self._refused)
            return
        super().send_400_response(msg)

    def on_url(self, url: bytes) -> None:
        HttpToolsProtocol.on_url(self, url)
        if len(self.url) > self._max_line:
            self._refused = HeadTooLarge(
                400, f"The request line is longer than {self.limits.request_line} bytes."
            )
            raise self._refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_total += len(name) + len(value) + 4
        if len(self.headers) >= self._max_headers:
            self._refused = HeadTooLarge(
                431, f"The request has more than {self.limits.headers} header fields."
            )
            raise self._refused
        if self._header_total > self._max_header_bytes:
            self._refused = HeadTooLarge(431, self._too_many_bytes())
            raise self._refused
        HttpToolsProtocol.on_header(self, name, value)

    def on_response_complete(self) -> None:
        HttpToolsProtocol.on_response_complete(self)
        # uvicorn holds a finished request's cycle, and through it the scope (FastAPI's exit
        # stacks, the request's state), until the next request on the connection: about
        # 12 KB per idle keep-alive connection. Once request and response are both done it is
        # let go; a head already being parsed for the next request keeps its own scope.
        cycle = self.cycle
        if cycle is not None and cycle.response_complete and not cycle.more_body:
            if self.scope is cycle.scope:
                self.scope = None  # type: ignore[assignment]
            self.cycle = None  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        HttpToolsProtocol.on_message_complete(self)
        # The next request on this connection starts a new head (its header count too: reset
        # here rather than in on_message_begin, one callback fewer per request).
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""
        self._header_total = 0

    def _unsupported_upgrade_warning(self) -> None:
        # Workers run without a WebSocket protocol (no route uses one): an upgrade request is
        # answered as the plain HTTP request it also is, and uvicorn's two warnings per such
        # request (one advising to install a WebSocket library) do not apply.
        self.logger.debug("Upgrade request answered as plain HTTP.")

    def _too_many_bytes(self) -> str:
        return f"The request header fields are larger than {self.limits.header_bytes} bytes."

    def _refuse(self, error: HeadTooLarge) -> None:
        if self.transport.is_closing():
            return
        body = _problem(error.status, error.detail)
        title = TITLES[error.status]
        head = (
            f"HTTP/1.1 {error.status} {title}\r\n"
            "content-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()


class RequestLineLimit:
    """The request-line limit as pure ASGI, for servers that bound only the whole head."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            if target + len(scope.get("method", "")) + 10 > self.limit:
                body = _problem(400, f"The request line is longer than {self.limit} bytes.")
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
