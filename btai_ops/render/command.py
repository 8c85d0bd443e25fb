"""The `btai render` command group: render (the default), `--check DIR`, and `schema`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from btai_ops.errors import BtaiError, ConfigError, UsageProblem

if TYPE_CHECKING:
    from btai_ops.render.engine import Rendered

app = typer.Typer(
    help="Render deployment manifests (Kubernetes, Docker, Compose, monitoring) from configs/.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback(invoke_without_command=True)
def render(
    ctx: typer.Context,
    env: Annotated[
        str | None,
        typer.Option("--env", metavar="NAME", help="Environment to render (default: all of them)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Write into DIR/<environment>/ (default: deploy)."),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(metavar="GROUPS", help="Comma-separated: k8s, docker, compose, monitoring."),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Compare with DIR/<environment>/ instead of writing; exit 1 with a diff.",
        ),
    ] = None,
    assignments: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="PATH=VALUE", help="Override a config key (repeatable)."),
    ] = None,
    config_dir: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Directory with base.yaml and environments/ (default: $BTAI_CONFIG_DIR, "
            "configs/ here or in a parent folder, then the configs shipped with btai).",
        ),
    ] = None,
) -> None:
    """Render deployment manifests for one environment or all of them; nothing is written
    unless every file renders and passes its checks."""
    if ctx.invoked_subcommand is not None:
        return
    if out is not None and check is not None:
        raise UsageProblem("--out and --check cannot be used together")
    from btai_ops.output import stderr
    from btai_ops.render.engine import parse_only
    from btai_ops.render.loader import find_config_dir

    directory = find_config_dir(config_dir)
    groups = parse_only(only)
    results = _render_all(directory, env, assignments, groups)
    if check is not None:
        _check(results, check, set(groups))
        stderr.print(f"{check}: up to date ({', '.join(r.environment for r in results)})")
    else:
        _write(results, out or Path("deploy"), set(groups))


def _render_all(
    directory: Path, env: str | None, assignments: list[str] | None, groups: tuple[str, ...]
) -> list[Rendered]:
    """Every environment asked for (all of them without --env), rendered and checked."""
    from btai_ops.output import stderr
    from btai_ops.render.engine import render as render_environment
    from btai_ops.render.loader import known_environments

    environments = [env] if env else known_environments(directory)
    if not environments:
        raise ConfigError(f"no environments in {directory}/environments")
    results = [render_environment(directory, name, assignments, groups) for name in environments]
    for result in results:
        for warning in result.warnings:
            stderr.print(f"warning: {result.environment}: {warning}", markup=False)
    return results


def _check(results: list[Rendered], check: Path, groups: set[str]) -> None:
    """Print the diffs against DIR/<environment>/; any at all is exit 1."""
    from btai_ops.output import stderr
    from btai_ops.render.output import compare

    diffs: list[str] = []
    for result in results:
        target = check / result.environment
        found = compare(result.files, target, groups)
        diffs += found.diffs
        if found.unknown:
            # Named, never read: these are the user's own (secrets, .env, extra manifests).
            stderr.print(
                f"{target}: not written by btai render, left as they are: "
                + ", ".join(found.unknown),
                markup=False,
            )
    if diffs:
        typer.echo("".join(diffs), nl=False)
        raise BtaiError(
            f"{len(diffs)} rendered file(s) differ from {check}",
            hint=f"run `btai render --out {check}` and commit the result",
        )


def _write(results: list[Rendered], root: Path, groups: set[str]) -> None:
    from btai_ops.output import stderr
    from btai_ops.render.output import write

    for result in results:
        target = root / result.environment
        try:
            written = write(result.files, target, groups)
        except OSError as exc:  # a file where a folder must be, no permission, a full disk
            raise UsageProblem(
                f"cannot write {exc.filename or target}: {exc.strerror or exc}",
                hint="choose another --out folder",
            ) from exc
        stderr.print(
            f"{result.environment}: {len(written)} file(s) in {target} "
            f"(Kubernetes {result.kubernetes_version}, validated)"
        )


@app.command("schema")
def schema(
    overlay: Annotated[
        bool,
        typer.Option(
            "--overlay",
            help="The schema of configs/environments/*.yaml (every key optional, null deletes) "
            "instead of base.yaml's.",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of base.yaml, or with --overlay of an environment overlay."""
    from btai_ops.render.engine import json_schema

    typer.echo(json_schema("overlay" if overlay else "base"), nl=False)
