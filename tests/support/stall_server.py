"""A tiny HTTP/1.1 server for load-test tests: answers every request with 200 JSON.

`--stall-every 5 --stall-for 1` freezes the whole event loop for one second every five
seconds (counted from the first request), the way a stop-the-world pause does; `--delay-ms 5`
adds 5 ms to every answer. Run it with `python -m tests.support.stall_server --port N`.
"""

from __future__ import annotations

import argparse
import asyncio
import time

BODY = b'{"status":"pass"}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class StallServer:
    def __init__(self, stall_every: float, stall_for: float, delay_ms: float) -> None:
        self.stall_every = stall_every
        self.stall_for = stall_for
        self.delay = delay_ms / 1000.0
        self.stalls: asyncio.Task[None] | None = None

    async def _stall_forever(self) -> None:
        await asyncio.sleep(1.0)
        while True:
            time.sleep(self.stall_for)  # blocks the loop on purpose: nothing is answered
            await asyncio.sleep(self.stall_every - self.stall_for)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if self.stalls is None and self.stall_for > 0:
                    self.stalls = asyncio.create_task(self._stall_forever())
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stall-every", type=float, default=5.0)
    parser.add_argument("--stall-for", type=float, default=0.0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    app = StallServer(args.stall_every, args.stall_for, args.delay_ms)
    server = await asyncio.start_server(app.handle, "127.0.0.1", args.port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
