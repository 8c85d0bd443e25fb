"""A tiny HTTP/1.1 server for load-test tests: answers every request with 200 JSON.

`--stall-every 5 --stall-for 1` freezes the whole event loop for one second every five
seconds (counted from the first request), the way a stop-the-world pause does; `--delay-ms 5`
adds 5 ms to every answer. `--status 404` answers every request with that status,
`--fail-every 200` answers every 200th with 500, and `--slow-every 50 --slow-ms 200` makes
every 50th answer 200 ms slower. `GET /__count` tells how many requests it answered (the
probe of `/` and itself not counted) and `GET /__timings` its own time per answer in ms,
from the end of the request head to the write of the answer.
Run it with `python -m tests.support.stall_server --port N`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

BODY = b'{"status":"pass"}'
REASONS = {200: b"OK", 404: b"Not Found", 429: b"Too Many Requests", 500: b"Server Error"}


def response(status: int, body: bytes = BODY) -> bytes:
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        % (status, REASONS.get(status, b"Status"), len(body))
        + body
    )


class StallServer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.stall_every = args.stall_every
        self.stall_for = args.stall_for
        self.delay = args.delay_ms / 1000.0
        self.answer = response(args.status)
        self.failure = response(500)
        self.fail_every = args.fail_every
        self.slow_every = args.slow_every
        self.slow = args.slow_ms / 1000.0
        self.stalls: asyncio.Task[None] | None = None
        self.count = 0
        self.timings: list[float] = []

    async def _stall_forever(self) -> None:
        await asyncio.sleep(1.0)
        while True:
            time.sleep(self.stall_for)  # blocks the loop on purpose: nothing is answered
            await asyncio.sleep(self.stall_every - self.stall_for)

    async def _answer(self, path: bytes) -> bytes:
        if path == b"/__count":
            return response(200, json.dumps({"count": self.count}).encode())
        if path == b"/__timings":
            return response(200, json.dumps(self.timings).encode())
        if path == b"/":
            return self.answer
        self.count += 1
        n = self.count
        if self.stalls is None and self.stall_for > 0:
            self.stalls = asyncio.create_task(self._stall_forever())
        delay = self.delay + (self.slow if self.slow_every and n % self.slow_every == 0 else 0)
        if delay:
            await asyncio.sleep(delay)
        if self.fail_every and n % self.fail_every == 0:
            return self.failure
        return self.answer

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                started = time.perf_counter()
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                path = head.split(b" ", 2)[1].split(b"?", 1)[0]
                answer = await self._answer(path)
                writer.write(answer)
                if not path.startswith(b"/__"):
                    self.timings.append((time.perf_counter() - started) * 1000.0)
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
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--slow-every", type=int, default=0)
    parser.add_argument("--slow-ms", type=float, default=0.0)
    args = parser.parse_args()
    app = StallServer(args)
    server = await asyncio.start_server(app.handle, "127.0.0.1", args.port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
