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
        declared: int | None = None
        if declared_text is not None:
            if not declared_text.strip().isdigit():
                await self._refuse(scope, send, 400, "Content-Length is not a number.")
                return
            declared = int(declared_text)
            if declared > self.max_bytes:
                await self._refuse(scope, send, 413, self._too_large(), "body-too-large")
                return
        received = 0
        started = False
        body_done = False
        failure: tuple[int, str, str] | None = None
        depth = JsonDepthScanner() if _is_json(scope) else None

        async def counting_receive() -> Message:
            nonlocal received, failure, body_done
            if body_done or started:
                # Past the body (a streaming response listening for disconnect): no timeout.
                message: Message = await receive()
                return message
            try:
                async with asyncio.timeout(self.read_timeout):
                    message = await receive()
            except TimeoutError:
                failure = (408, "The request body did not arrive in time.", "body-timeout")
                raise BodyStalled from None
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            received += len(chunk)
            more = message.get("more_body", False)
            body_done = not more
            if depth is not None and chunk:
                try:
                    depth.feed(chunk)
                except JsonTooDeep:
                    detail = f"The JSON body nests deeper than {depth.limit} levels."
                    failure = (400, detail, "json-too-deep")
                    raise
            if received > self.max_bytes:
                failure = (413, self._too_large(), "body-too-large")
                raise BodyTooLarge
            if declared is not None and (
                received > declared or (not more and received != declared)
            ):
                failure = (400, "The body does not match its Content-Length.", LENGTH_SLUG)
                raise BodyLengthMismatch
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if failure is not None:
                # The app turned our exception into its own error; ours is the true answer.
                return
            if message["type"] == "http.response.start":
                started = True
                if not body_done:
                    # Answered before the body was read (a 405, say): close the connection
                    # rather than let the server read the rest of an unwanted upload.
                    message["headers"] = [*message.get("headers", ()), CONNECTION_CLOSE]
            await send(message)

        with contextlib.suppress(BodyTooLarge, BodyLengthMismatch, BodyStalled, JsonTooDeep):
            await self.app(scope, counting_receive, guarded_send)
        if failure is not None and not started:
            await self._refuse(scope, send, *failure)

    def _too_large(self) -> str:
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
