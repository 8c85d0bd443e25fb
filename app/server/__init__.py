"""Server runtime: how `btai serve` runs the app under uvicorn or granian with several workers.

The workers build their own `Settings` from the environment that `btai serve` prepared, so
everything they share (metrics directory, settings overrides) is decided before they start.
"""

from app.server.options import ServeOptions

__all__ = ["ServeOptions"]
