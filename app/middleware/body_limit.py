"""Refuse request bodies over MAX_BODY_SIZE: by Content-Length before reading anything, and by
counting the bytes of a chunked (or mis-declared) body as it streams, so a large upload is
answered with 413 without ever being held in memory."""

from __future__ import annotations

import contextlib
from typing import Any

from app.errors import send_problem

Scope = dict[str, Any]


class BodyTooLarge(Exception):
    pass


class BodyLengthMismatch(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: Any, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
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
                await self._refuse(scope, send, 413, self._too_large())
                return
        received = 0
        started = False
        failure: tuple[int, str] | None = None

        async def counting_receive() -> dict[str, Any]:
            nonlocal received, failure
            message: dict[str, Any] = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                failure = (413, self._too_large())
                raise BodyTooLarge
            more = message.get("more_body", False)
            if declared is not None and (
                received > declared or (not more and received != declared)
            ):
                failure = (400, "The body does not match its Content-Length.")
                raise BodyLengthMismatch
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if failure is not None:
                # The app turned our exception into its own error; ours is the true answer.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(BodyTooLarge, BodyLengthMismatch):
            await self.app(scope, counting_receive, guarded_send)
        if failure is not None and not started:
            await self._refuse(scope, send, *failure)

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    async def _refuse(self, scope: Scope, send: Any, status: int, detail: str) -> None:
        slug = "body-too-large" if status == 413 else "bad-content-length"
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
