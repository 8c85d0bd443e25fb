"""Run a `btai` command in a real pseudo-terminal and read the screen it draws.

pexpect gives the command a pty (so rich sees a terminal, as in tmux or ssh), and pyte plays
every byte it writes onto a virtual screen, so a test reads what a person would see, redraws
included, and can press Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pyte

from tests.support.server import BTAI
from tests.support.timing import scaled

ROOT = Path(__file__).resolve().parents[2]


class Terminal:
    """One command on a pty of `columns` x `lines`; everything it wrote is kept."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        columns: int = 80,
        lines: int = 40,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> None:
        full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        full_env |= {"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
        full_env |= dict(env or {})
        self.screen = pyte.Screen(columns, lines)
        self._stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.child = pexpect.spawn(
            argv[0] if argv[0] != "btai" else BTAI,
            list(argv[1:]),
            cwd=str(cwd),
            env=full_env,
            dimensions=(lines, columns),
            timeout=None,
        )

    def _pump(self, wait: float) -> bool:
        """Read what is there (up to `wait` s for the first byte); False at end of output."""
        try:
            chunk = self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            return True
        except pexpect.EOF:
            return False
        self.raw += chunk
        self._stream.feed(chunk)
        return True

    def text(self) -> str:
        """The screen as it looks now, one line per row, trailing blanks removed."""
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip()

    @property
    def output(self) -> str:
        """Everything written so far, escape sequences included."""
        return self.raw.decode(errors="replace")

    def wait_for(self, done: Callable[[Terminal], bool], timeout: float = 60) -> None:
        """Read until `done(self)` holds; AssertionError with the screen when it never does.
        `timeout` is scaled for the machine."""
        deadline = time.monotonic() + scaled(timeout)
        while not done(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the screen shows:\n{self.text()}")
            if not self._pump(0.2) and not done(self):
                raise AssertionError(f"the command ended; the screen shows:\n{self.text()}")

    def wait_for_text(self, text: str, timeout: float = 60) -> None:
        self.wait_for(lambda t: text in t.text() or text in t.output, timeout)

    def interrupt(self) -> None:
        """Ctrl-C, as a person presses it: SIGINT to the foreground process group."""
        self.child.sendintr()

    def finish(self, timeout: float = 60) -> int:
        """Read to the end; the exit code (128 + N when a signal N ended it)."""
        deadline = time.monotonic() + scaled(timeout)
        while self._pump(0.2):
            if time.monotonic() > deadline:
                self.child.kill(signal.SIGKILL)
                raise AssertionError(f"still running; the screen shows:\n{self.text()}")
        self.child.close()
        if self.child.signalstatus is not None:
            return 128 + int(self.child.signalstatus)
        return int(self.child.exitstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.kill(signal.SIGKILL)
        self.child.close(force=True)


@contextmanager
def terminal(
    *argv: str,
    columns: int = 80,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> Iterator[Terminal]:
    """A Terminal that is killed if the test leaves it running."""
    term = Terminal(argv, columns=columns, env=env, cwd=cwd)
    try:
        yield term
    finally:
        term.close()
