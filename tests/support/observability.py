"""Real loopback helpers for observability tests: a TCP proxy and an HTTP receiver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`; `start()`/`stop()` open and close the port."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))


class Receiver:
    """An HTTP server on 127.0.0.1 recording JSON POSTs; the first `fail_first` attempts to
    deliver each alert (by alert id) are answered 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.attempts: dict[str, int] = {}
        self.received: list[dict[str, Any]] = []
        self.raw: list[tuple[str, bytes]] = []  # (path, body) of non-JSON posts
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                if "json" not in self.headers.get("content-type", ""):
                    with receiver.lock:
                        receiver.raw.append((self.path, raw))
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body = json.loads(raw)
                key = str(body.get("alert", {}).get("id"))
                with receiver.lock:
                    receiver.attempts[key] = receiver.attempts.get(key, 0) + 1
                    failing = receiver.attempts[key] <= receiver.fail_first
                    if not failing:
                        receiver.received.append(body)
                self.send_response(500 if failing else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @contextlib.contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)
