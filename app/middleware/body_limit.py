"""Refuse request bodies over MAX_BODY_SIZE: by Content-Length before reading anything, and by
counting the bytes of a chunked (or mis-declared) body as it streams, so a large upload is
answered with 413 without ever being held in memory. A JSON body nested deeper than the
parsers can take is refused (400) as it streams too, before anything parses it, and a body
that stalls is answered 408 after BODY_READ_TIMEOUT seconds (checked every STALL_CHECK_SECONDS at
most, by one timer for the whole process: see `_StallWatch`)."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import send_problem
from app.security.json_depth import JsonDepthScanner, JsonTooDeep

LENGTH_SLUG = "bad-content-length"
STALL_CHECK_SECONDS = 1.0
"""How often the body reads in progress are held to their deadline (a quarter of the read
timeout when that is shorter): a stalled body is answered at most this late."""
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


class _StallWatch:
    """The deadlines of the body reads that wait, held by one timer that runs while any does.

    An `asyncio.timeout` around every read armed and cancelled a timer per request, some 7
    microseconds each, while almost every body has already arrived when it is read. Here a read
    only notes its deadline and its task; a check every `every` seconds cancels a read past its
    deadline (the read then answers 408), and no timer runs while nothing waits.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.every = min(STALL_CHECK_SECONDS, timeout / 4)
        self.waiting: dict[_BodyGuard, tuple[float, asyncio.Task[object]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, guard: _BodyGuard) -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        self.waiting[guard] = (loop.time() + self.timeout, task)
        if self._timer is None or self._loop is not loop:  # an app served by a new loop
            self._loop = loop
            self._timer = loop.call_later(self.every, self._check, loop)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        for guard, (deadline, task) in list(self.waiting.items()):
            if task.get_loop() is not loop:  # left by a loop that is gone
                del self.waiting[guard]
            elif deadline <= now:
                del self.waiting[guard]
                guard.stalled = True
                task.cancel()
        if self.waiting:
            self._timer = loop.call_later(self.every, self._check, loop)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, read_timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout
        self.stall_watch = _StallWatch(read_timeout) if read_timeout is not None else None

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
        "stalled", "started",
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
        self.stalled = False
        self.failure: tuple[int, str, str] | None = None

    async def receive(self) -> Message:
        if self.body_done or self.started:
            # Past the body (a streaming response listening for disconnect): no timeout.
            return await self._receive()
        watch = self.limit.stall_watch
        if watch is None:
            message = await self._receive()
        else:
            watch.start(self)
            try:
                message = await self._receive()
            except asyncio.CancelledError:
                if not self.stalled:
                    raise
                task = asyncio.current_task()
                assert task is not None
                task.uncancel()  # the cancel was the watch's, not the caller's
                self.failure = (408, "The request body did not arrive in time.", "body-timeout")
                raise BodyStalled from None
            finally:
                watch.waiting.pop(self, None)
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
