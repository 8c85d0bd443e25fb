"""Answer HEAD on every GET route: the GET runs, its status and headers go out, its body does not.

FastAPI routes list only the methods they declare, so without this a HEAD (`curl -I`, uptime
probes, link checkers) is a 405 even on liveness. Content-Length stays the GET's, as RFC 9110
section 9.3.2 allows; the body is dropped here rather than left to the server, because not every
server (or test transport) drops it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not finished:
                if not message.get("more_body", False):
                    finished = True
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
