"""A loopback TCP proxy for fault tests: it passes bytes, cuts connections, or black-holes them.

The proxy runs its own event loop in a thread, so a test may drive it while a server process
or the test's own loop talks through it. Its port is bound once, from the operating system, and
held until `close()`, so no other process can take it in between.

- `pass_through()`: bytes flow both ways (the default); held bytes are delivered.
  `pass_through(revive=False)` leaves the connections that were black-holed silent for good
  (a partition that outlived the peers' state): only new connections work.
- `black_hole()`: connections stay open and new ones are accepted, but no byte moves in either
  direction, the way a network partition or a hung peer looks: the other side waits, never fails.
- `cut()`: every open connection is closed with a reset and new connections are reset at once,
  the way a database that went down looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any, Literal

Mode = Literal["pass", "black-hole", "cut"]
CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target` in the current mode."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode: Mode = "pass"
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._thread.start()
        self._call(self._start()).result(timeout=30)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _call(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._handle, sock=self._listener)

    # --- modes ----------------------------------------------------------------------------------
    def pass_through(self, *, revive: bool = True) -> None:
        """Let bytes flow again: with `revive`, on the held connections too."""
        self._call(self._set_mode("pass", revive=revive)).result(timeout=30)

    def black_hole(self) -> None:
        """Hold every byte from now on; connections stay open."""
        self._call(self._set_mode("black-hole")).result(timeout=30)

    def cut(self) -> None:
        """Reset every open connection, and every new one until the mode changes."""
        self._call(self._set_mode("cut")).result(timeout=30)

    async def _set_mode(self, mode: Mode, *, revive: bool = True) -> None:
        assert self._flowing is not None
        self.mode = mode
        if mode == "pass":
            if not revive:
                # The held connections keep waiting on the old event, which is never set.
                self._flowing = asyncio.Event()
            self._flowing.set()
            return
        self._flowing.clear()
        if mode == "cut":
            for connection in list(self._connections):
                connection.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)

    def close(self) -> None:
        """Close every connection and the port, and stop the proxy's thread."""

        async def shut() -> None:
            await self._set_mode("cut")
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        with contextlib.suppress(Exception):
            self._call(shut()).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    # --- forwarding -----------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "cut":
            _reset(writer)
            return
        connection = asyncio.current_task()
        assert connection is not None
        self._connections.add(connection)
        upstream: asyncio.StreamWriter | None = None
        try:
            up_reader, upstream = await asyncio.open_connection(*self.target)
            await asyncio.gather(self._pipe(reader, upstream), self._pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(connection)
            _reset(writer)
            if upstream is not None:
                _reset(upstream)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        flowing = self._flowing
        assert flowing is not None
        while True:
            # Nothing is read while black-holed: the kernel buffers fill and the sender stalls,
            # as it would behind a partition; what was sent arrives once bytes flow again.
            if not flowing.is_set():
                await flowing.wait()
                flowing = self._flowing
                assert flowing is not None
            data = await src.read(CHUNK)
            if not data:
                break
            if not flowing.is_set():
                await flowing.wait()
                flowing = self._flowing
                assert flowing is not None
            dst.write(data)
            await dst.drain()
        if dst.can_write_eof():
            with contextlib.suppress(OSError):
                dst.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0): the peer sees the connection fail, not end."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


@contextlib.contextmanager
def tcp_proxy(target: tuple[str, int]) -> Iterator[TcpProxy]:
    """A running proxy to `target`, closed on exit."""
    proxy = TcpProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()
