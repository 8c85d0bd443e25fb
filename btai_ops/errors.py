"""Errors of the `btai` command line; each class carries the exit code the process ends with.

The class decides the code, never the call: raise the subclass whose meaning fits.

Exception tree::

    BtaiError (1)              a command failed or a check it ran did not pass
    ├── UsageProblem (2)       options or arguments that cannot work together
    ├── ConfigError (2)        settings or a config file are invalid (names the place)
    ├── ServiceUnreachable (3) the service, a server or a dependency did not answer in time
    └── InternalError (4)      an unexpected exception: a crash of btai, not a verdict

Exit codes: 0 success, 1 failure or failed check, 2 bad usage or configuration,
3 unreachable or timed out, 4 internal error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations


class BtaiError(Exception):
    """A failure reported as one line `Error: <message> (<hint>)` and `exit_code`."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"Error: {self.message}" + (f" ({self.hint})" if self.hint else "")


class UsageProblem(BtaiError):
    exit_code = 2


class ConfigError(BtaiError):
    exit_code = 2


class ServiceUnreachable(BtaiError):
    exit_code = 3


class InternalError(BtaiError):
    exit_code = 4

    @classmethod
    def of(cls, exc: BaseException) -> InternalError:
        """The one-line report of an unexpected exception."""
        text = str(exc).strip().splitlines()
        detail = f": {text[0]}" if text else ""
        return cls(
            f"internal error {type(exc).__name__}{detail}",
            hint="a bug in btai; run with --debug for the traceback",
        )


EXIT_INTERRUPTED = 130
"""Ctrl-C: the command stopped early at the user's request (128 + SIGINT, as shells report)."""
