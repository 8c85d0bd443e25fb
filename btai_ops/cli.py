"""The `btai` command line: the Typer root, one sub-app or command per module.

Nothing heavy is imported here (no FastAPI, SQLAlchemy, uvicorn or Locust): each command
imports what it needs when it runs, so `btai --help` stays fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from btai_ops import __version__, queue_dead, user_admin
from btai_ops import benchmark as benchmark_cmd
from btai_ops import config as config_cmd
from btai_ops import data as data_cmd
from btai_ops import db as db_cmd
from btai_ops import health as health_cmd
from btai_ops import loadtest as loadtest_cmd
from btai_ops import queue as queue_cmd
from btai_ops import serve as serve_cmd
from btai_ops import top as top_cmd
from btai_ops import users as users_cmd
from btai_ops.errors import EXIT_INTERRUPTED, BtaiError, InternalError
from btai_ops.extras import missing_extra
from btai_ops.help_text import tidy as tidy_help
from btai_ops.render import command as render_cmd


@dataclass
class RootOptions:
    """What the root options decide for every command; kept in the root context's `obj`."""

    debug: bool = False


class BtaiGroup(TyperGroup):
    """The root group: a BtaiError from any command, a missing optional package and a usage
    mistake each become one line `Error: ... (hint)` on stderr and their exit code.

    Anything else a command raises is a crash, never a verdict: one `Error:` line naming it
    and exit code 4. Ctrl-C ends the command quietly with 130, as a shell does.
    """

    context_class = typer.Context

    def invoke(self, ctx: object) -> Any:
        # Typed `object`: typer names the click context only through a private module;
        # `context_class` makes it the public `typer.Context`.
        assert isinstance(ctx, typer.Context)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BtaiError as exc:
            _fail(ctx, exc)
        except ImportError as exc:
            _fail(ctx, missing_extra(exc) or InternalError.of(exc))
        except Exception as exc:
            _fail(ctx, InternalError.of(exc))

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
        except TyperException as exc:  # click's usage errors, as typer raises them
            typer.echo(_usage_message(exc), err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug in an option's callback, before any command runs
            if "--debug" in (args if args is not None else sys.argv[1:]):
                traceback.print_exc()
            internal = InternalError.of(exc)
            typer.echo(internal.render(), err=True)
            sys.exit(internal.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(ctx: typer.Context, exc: BtaiError) -> None:
    options = ctx.obj
    if isinstance(options, RootOptions) and options.debug:
        traceback.print_exc()
    typer.echo(exc.render(), err=True)
    raise typer.Exit(exc.exit_code) from None


def _usage_message(exc: TyperException) -> str:
    """One line like every other error, not a box: what is wrong, then where help is.

    A group called with nothing to do is the exception: its help, as click prints it.
    """
    if type(exc).__name__ == "NoArgsIsHelpError":  # its message is the help text
        return exc.format_message()
    ctx = getattr(exc, "ctx", None)  # usage errors name the command they concern
    where = getattr(ctx, "command_path", "")
    hint = f" (see `{where} --help`)" if where else ""
    return f"Error: {' '.join(exc.format_message().split())}{hint}"


app = typer.Typer(
    cls=BtaiGroup,
    name="btai",
    help="Operate the Baseball Trade AI service: serve, check, load-test, benchmark, render.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"btai {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Operate the Baseball Trade AI service: serve, check, load-test, benchmark, render."""
    ctx.obj = RootOptions(debug=debug)


app.add_typer(config_cmd.app, name="config")
app.add_typer(data_cmd.app, name="data")
app.add_typer(db_cmd.app, name="db")
queue_cmd.app.command("list")(queue_dead.list_dead)
queue_cmd.app.command("retry")(queue_dead.retry)
queue_cmd.app.command("purge")(queue_dead.purge)
app.add_typer(queue_cmd.app, name="queue")
app.command("serve")(serve_cmd.serve)
users_cmd.app.command("list")(user_admin.list_users)
users_cmd.app.command("disable")(user_admin.disable)
users_cmd.app.command("enable")(user_admin.enable)
app.add_typer(users_cmd.app, name="users")
app.add_typer(render_cmd.app, name="render")
app.command("health")(health_cmd.health)
app.command("top")(top_cmd.top)
app.command("loadtest")(loadtest_cmd.loadtest)
app.add_typer(benchmark_cmd.app, name="benchmark")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
