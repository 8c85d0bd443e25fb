"""`btai serve`: run the API with uvicorn, settings from the environment, flags on top."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from btai_ops.output import stderr
from btai_ops.settings_loader import load_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [default: API_HOST].")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="TCP port [default: API_PORT].")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes [default: API_WORKERS].")
    ] = None,
) -> None:
    """Serve the Baseball Trade AI API."""
    overrides = {"API_HOST": host, "API_PORT": port, "API_WORKERS": workers}
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = str(value)  # the workers build their Settings from it
    settings = load_settings()

    import uvicorn

    from app.settings import mask_url

    stderr.print(
        f"btai serving on http://{settings.API_HOST}:{settings.API_PORT} "
        f"({settings.API_WORKERS} worker(s), {settings.ENVIRONMENT.value}); "
        f"database {mask_url(settings.database_url)}"
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.API_HOST,
        port=settings.API_PORT,
        workers=settings.API_WORKERS,
        log_level=settings.LOG_LEVEL.lower(),
        access_log=False,
    )
