"""The interactive docs, served offline: Swagger UI at /docs, ReDoc at /redoc, a landing page at /.

Their scripts and styles come from the `fastapi-offline` package, which ships Swagger UI and
ReDoc (with their licences) as package data, so the pages render on a machine with no network
and load nothing from a CDN. Only mounted outside production (see `create_app`).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def assets_folder() -> Path:
    """The folder of the bundled Swagger UI and ReDoc files."""
    return Path(str(files("fastapi_offline") / "static"))


def docs_routes(
    *, title: str, version: str, openapi_url: str, links: dict[str, str]
) -> list[BaseRoute]:
    """Routes for /, /docs, /redoc and their assets; `links` are shown on the landing page."""

    async def swagger_ui(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )

    async def redoc(_: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    page = landing_page(title=title, version=version, links=links)

    async def landing(_: Request) -> HTMLResponse:
        return HTMLResponse(page)

    return [
        Route("/", landing, methods=["GET"], include_in_schema=False),
        Route("/docs", swagger_ui, methods=["GET"], include_in_schema=False),
        Route("/redoc", redoc, methods=["GET"], include_in_schema=False),
        Mount(ASSETS, StaticFiles(directory=assets_folder()), name="docs-assets"),
    ]


def landing_page(*, title: str, version: str, links: dict[str, str]) -> str:
    """A small HTML page that points a person at the docs, health and metrics."""
    items = "\n".join(
        f'    <li><a href="{escape(href)}">{escape(label)}</a> <code>{escape(href)}</code></li>'
        for label, href in links.items()
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{escape(title)}</title>
  <link rel="icon" href="{ASSETS}/favicon.png">
  <style>body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 40rem; }}</style>
</head>
<body>
  <h1>{escape(title)} <small>{escape(version)}</small></h1>
  <p>Evaluate baseball trades with real team, player and contract data.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""
