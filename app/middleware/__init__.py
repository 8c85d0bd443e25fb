"""The one place that composes the middleware stack, in one documented order.

Every middleware is a small pure-ASGI class. `install_middleware` adds them to the app so that
the list in `middleware_stack` reads outermost first:

1. request context: assigns X-Request-ID and the W3C trace context first, so every later
   layer, log line and problem response (even a 413 or 429 sent by a security layer) names
   the request;
2. performance metrics: wraps everything below it so the rejections of the security layers
   are counted and timed too;
3. security headers: added to every response, rejections included;
4. HTTPS enforcement: redirect or refuse plain HTTP before any other work;
5. trusted host: refuse unknown Host headers;
6. CORS: answer preflights before limits are spent on them;
7. body limit: refuse oversized bodies before the app reads them;
8. rate limit: the last gate before the application.

Starlette's own error middleware stays outermost (it answers unhandled exceptions with the
problem handler from `app.errors`), and its exception middleware innermost.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware

from app.middleware.metrics import PerformanceMiddleware
from app.middleware.request_context import RequestContextMiddleware
from app.monitoring.window import RequestWindow
from app.settings import Settings


def middleware_stack(app: FastAPI, settings: Settings) -> list[Middleware]:
    """The middleware of `app`, outermost first; settings switch layers off."""
    stack: list[Middleware] = []
    if settings.ENABLE_REQUEST_TRACING:
        stack.append(Middleware(RequestContextMiddleware))
    if settings.ENABLE_PERFORMANCE_MONITORING:
        window = RequestWindow()
        app.state.request_window = window
        stack.append(
            Middleware(
                PerformanceMiddleware,
                slow_threshold=settings.SLOW_REQUEST_THRESHOLD,
                window=window,
            )
        )
    return stack


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Add `middleware_stack(app, settings)` to `app`, keeping its order."""
    # add_middleware puts each new layer outside the ones added before it.
    for layer in reversed(middleware_stack(app, settings)):
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
