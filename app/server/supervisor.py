"""The supervisor of a multi-worker `btai serve`, in a fresh interpreter of its own.

`btai serve` validates the settings, migrates and says where it serves; with several workers
it then replaces itself (same pid, same streams, same signals) with
`python -m app.server.supervisor PLAN`. That process imports the HTTP server and the logging
set-up only: the settings (pydantic), the app and its libraries stay out of a process that
serves no request and lives as long as the server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, NoReturn

from app.server.options import HeadLimits, ServeOptions

if __name__ == "__mp_main__":
    # A worker (multiprocessing runs this module as __mp_main__ in each child, before the
    # child imports uvicorn): importing uvicorn loads its file-watching reloader, watchfiles
    # (about 1 MB with its Rust extension), which only the supervisor of `--reload` uses.
    # Without it uvicorn falls back to its polling reloader, which no worker runs either.
    sys.modules.setdefault("watchfiles", None)  # type: ignore[arg-type]

NOT_STARTED = "the server did not start (see the log lines above)"
NOT_STARTED_EXIT = 3
"""The command line's code for "unreachable or timed out": the server never came up."""


def plan(options: ServeOptions, *, server: str, remove_metrics_dir: bool) -> str:
    """What the supervisor needs to run, as one JSON argument."""
    fields: dict[str, Any] = asdict(options)
    fields["metrics_dir"] = str(options.metrics_dir) if options.metrics_dir else None
    return json.dumps(
        {"options": fields, "server": server, "remove_metrics_dir": remove_metrics_dir}
    )


def options_of(text: str) -> tuple[ServeOptions, str, bool]:
    """The options, the server's name and the clean-up flag that `plan` wrote."""
    found = json.loads(text)
    fields = found["options"]
    options = ServeOptions(**{**fields, "head_limits": HeadLimits(**fields["head_limits"])})
    if fields["metrics_dir"]:
        options = replace(options, metrics_dir=Path(fields["metrics_dir"]))
    return options, found["server"], bool(found["remove_metrics_dir"])


def become_supervisor(options: ServeOptions, *, server: str, remove_metrics_dir: bool) -> NoReturn:
    """Replace this process with the supervisor of `options.workers` workers."""
    argument = plan(options, server=server, remove_metrics_dir=remove_metrics_dir)
    sys.stdout.flush()
    sys.stderr.flush()
    # -P: the working directory is not put on the path, so nothing there shadows the app.
    os.execv(sys.executable, [sys.executable, "-P", "-m", "app.server.supervisor", argument])  # noqa: S606


def main(argv: list[str]) -> int:
    options, server, remove_metrics_dir = options_of(argv[0])
    # Operators see the command's name, not the interpreter's, in ps and in "port in use by".
    with contextlib.suppress(OSError):
        Path("/proc/self/comm").write_text("btai")
    from app.logging_config import install_handler

    install_handler(options.log_level, readable=options.readable_logs)
    try:
        if server == "granian":
            from app.server.granian_runner import run_granian

            started = run_granian(options)
        else:
            from app.server.uvicorn_runner import run_uvicorn

            started = run_uvicorn(options)
    except KeyboardInterrupt:
        return 130
    finally:
        if remove_metrics_dir and options.metrics_dir is not None:
            shutil.rmtree(options.metrics_dir, ignore_errors=True)
    if not started:
        logging.getLogger("app.server").error(NOT_STARTED)
        return NOT_STARTED_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
