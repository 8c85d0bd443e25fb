"""The `btai` command line: the Typer root, one sub-app or command per module.

Nothing heavy is imported here (no FastAPI, SQLAlchemy, uvicorn or Locust): each command
imports what it needs when it runs, so `btai --help` stays fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer import _click as click  # the click that typer vendors
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from btai_ops import __version__
from btai_ops import benchmark as benchmark_cmd
from btai_ops import config as config_cmd
from btai_ops import data as data_cmd
from btai_ops import db as db_cmd
from btai_ops import health as health_cmd
from btai_ops import loadtest as loadtest_cmd
from btai_ops import queue as queue_cmd
from btai_ops import serve as serve_cmd
from btai_ops import users as users_cmd
from btai_ops.errors import EXIT_INTERRUPTED, BtaiError, InternalError
from btai_ops.extras import missing_extra
from btai_ops.help_text import tidy as tidy_help
from btai_ops.render import command as render_cmd


class BtaiGroup(TyperGroup):
    """The root group: a BtaiError from any command, a missing optional package and a usage
    mistake each become one line `Error: ... (hint)` on stderr and their exit code.

    Anything else a command raises is a crash, never a verdict: one `Error:` line naming it
    and exit code 4. Ctrl-C ends the command quietly with 130, as a shell does.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BtaiError as exc:
            self._fail(exc)
        except ImportError as exc:
            self._fail(missing_extra(exc) or InternalError.of(exc))
        except Exception as exc:
            self._fail(InternalError.of(exc))

    @staticmethod
    def _fail(exc: BtaiError) -> None:
        if _debug["on"]:
            traceback.print_exc()
        typer.echo(exc.render(), err=True)
        raise typer.Exit(exc.exit_code) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        tidy_help(self)
        given = (args, prog_name, complete_var, False, windows_expand_args)
        if not standalone_mode:
            return super().main(*given, **extra)
        try:
            result = super().main(*given, **extra)
        except NoArgsIsHelpError as exc:  # the help was printed as the error was raised
            sys.exit(exc.exit_code)
        except ClickException as exc:
            # One line like every other error, not a box: what is wrong, then where help is.
            where = exc.ctx.command_path if isinstance(exc, UsageError) and exc.ctx else ""
            hint = f" (see `{where} --help`)" if where else ""
            message = " ".join(exc.format_message().split())
            typer.echo(f"Error: {message}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=BtaiGroup,
    name="btai",
    help="Operate the Baseball Trade AI service: serve, check, load-test, benchmark, render.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

_debug = {"on": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"btai {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Operate the Baseball Trade AI service: serve, check, load-test, benchmark, render."""
    _debug["on"] = debug


app.add_typer(config_cmd.app, name="config")
app.add_typer(data_cmd.app, name="data")
app.add_typer(db_cmd.app, name="db")
app.add_typer(queue_cmd.app, name="queue")
app.command("serve")(serve_cmd.serve)
app.add_typer(users_cmd.app, name="users")
app.add_typer(render_cmd.app, name="render")
app.command("health")(health_cmd.health)
app.command("loadtest")(loadtest_cmd.loadtest)
app.add_typer(benchmark_cmd.app, name="benchmark")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
