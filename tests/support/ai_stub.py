"""A real OpenAI-compatible chat-completions server on 127.0.0.1 that can answer, fail, hang,
or hold each call until the test releases it (then answer).

Runs in a thread (`with AIStub() as stub:`) or as its own process
(`python -m tests.support.ai_stub PORT MODE`) for tests that start server processes.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

HANG_SECONDS = 30.0


class AIStub:
    def __init__(self, mode: str = "answer", port: int = 0) -> None:
        self.mode = mode
        self.calls = 0
        self.requests: list[dict[str, Any]] = []
        self._release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.calls += 1
                stub.requests.append(body)
                if stub.mode in ("hang", "hold"):
                    released = stub._release.wait(HANG_SECONDS)
                    if stub.mode == "hang" or not released:
                        return
                if stub.mode == "fail":
                    self._send(500, {"error": {"message": "stub failure"}})
                    return
                content = json.dumps({"narrative": f"Stub analysis #{stub.calls}."})
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{stub.calls}",
                        "model": body.get("model", "stub"),
                        "choices": [{"index": 0, "message": {"role": "assistant",
                                                             "content": content}}],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "cost": 0.0003},
                    },
                )  # fmt: skip

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def release(self) -> None:
        """Let held (and hanging) calls go: "hold" answers them, "hang" drops them."""
        self._release.set()

    def __enter__(self) -> AIStub:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    with AIStub(mode=sys.argv[2] if len(sys.argv) > 2 else "answer", port=int(sys.argv[1])):
        threading.Event().wait()
