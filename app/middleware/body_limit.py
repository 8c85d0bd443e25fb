"""Refuse request bodies over MAX_BODY_SIZE: by Content-Length before reading anything, and by
counting the bytes of a chunked (or mis-declared) body as it streams, so a large upload is
answered with 413 without ever being held in memory. A JSON body nested deeper than the
parsers can take is refused (400) as it streams too, before anything parses it, and a body
that stalls is answered 408 after BODY_READ_TIMEOUT seconds."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import send_problem
from app.security.json_depth import JsonDepthScanner, JsonTooDeep

LENGTH_SLUG = "bad-content-length"
CONNECTION_CLOSE = (b"connection", b"close")


class BodyTooLarge(Exception):
    pass


class BodyLengthMismatch(Exception):
    pass


class BodyStalled(Exception):
    pass


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, read_timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared_text = None
        chunked = False
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                declared_text = value
            elif key == b"transfer-encoding":
                chunked = True
        if declared_text is None and not chunked and scope.get("http_version") in ("1.0", "1.1"):
            # Such an HTTP/1 request has no body at all (HTTP/2 frames may carry one anyway).
            await self.app(scope, receive, send)
            return
        await self._with_body(scope, receive, send, declared_text)

    async def _with_body(
        self, scope: Scope, receive: Receive, send: Send, declared_text: bytes | None
    ) -> None:
        declared: int | None = None
        if declared_text is not None:
            if not declared_text.strip().isdigit():
                await self._refuse(scope, send, 400, "Content-Length is not a number.")
                return
            declared = int(declared_text)
            if declared > self.max_bytes:
                await self._refuse(scope, send, 413, self.too_large(), "body-too-large")
                return
        guard = _BodyGuard(self, receive, send, declared, _is_json(scope))
        with contextlib.suppress(BodyTooLarge, BodyLengthMismatch, BodyStalled, JsonTooDeep):
            await self.app(scope, guard.receive, guard.send)
        if guard.failure is not None and not guard.started:
            await self._refuse(scope, send, *guard.failure)

    def too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    async def _refuse(
        self, scope: Scope, send: Send, status: int, detail: str, slug: str = LENGTH_SLUG
    ) -> None:
        # Connection: close tells the server not to wait for the rest of the body.
        await send_problem(
            scope,
            send,
            status=status,
            detail=detail,
            type_slug=slug,
            headers={"Connection": "close"},
            **({"max_bytes": self.max_bytes} if status == 413 else {}),
        )


class _BodyGuard:
    """One request's body as it streams: counted, depth-scanned, held to its Content-Length
    and to the read timeout; `failure` says why it was refused (status, detail, slug)."""

    __slots__ = (
        "_receive", "_send", "body_done", "declared", "depth", "failure", "limit", "received",
        "started",
    )  # fmt: skip

    def __init__(
        self,
        limit: BodyLimitMiddleware,
        receive: Receive,
        send: Send,
        declared: int | None,
        json_body: bool,
    ) -> None:
        self.limit = limit
        self._receive = receive
        self._send = send
        self.declared = declared
        self.depth = JsonDepthScanner() if json_body else None
        self.received = 0
        self.started = False
        self.body_done = False
        self.failure: tuple[int, str, str] | None = None

    async def receive(self) -> Message:
        if self.body_done or self.started:
            # Past the body (a streaming response listening for disconnect): no timeout.
            return await self._receive()
        try:
            async with asyncio.timeout(self.limit.read_timeout):
                message = await self._receive()
        except TimeoutError:
            self.failure = (408, "The request body did not arrive in time.", "body-timeout")
            raise BodyStalled from None
        if message["type"] == "http.request":
            self._count(message.get("body", b""), message.get("more_body", False))
        return message

    def _count(self, chunk: bytes, more: bool) -> None:
        self.received += len(chunk)
        self.body_done = not more
        if self.depth is not None and chunk:
            self._scan(self.depth, chunk)
        if self.received > self.limit.max_bytes:
            self.failure = (413, self.limit.too_large(), "body-too-large")
            raise BodyTooLarge
        declared = self.declared
        if declared is not None and (
            self.received > declared or (not more and self.received != declared)
        ):
            self.failure = (400, "The body does not match its Content-Length.", LENGTH_SLUG)
            raise BodyLengthMismatch

    def _scan(self, depth: JsonDepthScanner, chunk: bytes) -> None:
        try:
            depth.feed(chunk)
        except JsonTooDeep:
            detail = f"The JSON body nests deeper than {depth.limit} levels."
            self.failure = (400, detail, "json-too-deep")
            raise

    async def send(self, message: Message) -> None:
        if self.failure is not None:
            # The app turned our exception into its own error; ours is the true answer.
            return
        if message["type"] == "http.response.start":
            self.started = True
            if not self.body_done:
                # Answered before the body was read (a 405, say): close the connection
                # rather than let the server read the rest of an unwanted upload.
                message["headers"] = [*message.get("headers", ()), CONNECTION_CLOSE]
        await self._send(message)
