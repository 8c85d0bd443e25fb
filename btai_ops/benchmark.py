"""`btai benchmark run|compare|micro`: the standard suite, comparisons, microbenchmarks."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmark the service and compare results.", no_args_is_help=True)
