"""The one place that composes the middleware stack, in one documented order.

Every middleware is a small pure-ASGI class. `install_middleware` adds them to the app so that
the list in `middleware_stack` reads outermost first. The first four never refuse a request;
they run as the parts of one edge layer (`app.middleware.edge`), so a response passes one
`send` wrapper for all of them, in this order:

1. request context: assigns X-Request-ID and the W3C trace context first, so every later
   layer, log line and problem response (even a 413 or 429 sent by a security layer) names
   the request;
2. performance metrics: wraps everything below it so the rejections of the security layers
   are counted and timed too;
3. security headers: added to every response, rejections included;
4. the access line (LOG_LEVEL=INFO or below): one per response, rejections included;

then the layers that may refuse a request, each its own middleware:

5. HTTPS enforcement: redirect or refuse plain HTTP before any other work;
6. trusted host: refuse unknown Host headers;
7. CORS: answer preflights before limits are spent on them;
8. body limit: refuse oversized bodies before the app reads them;
9. rate limit: the last gate before the application;
10. HEAD as GET: a HEAD runs the GET route and its body is dropped (after the gates, so a
    HEAD is limited and counted as itself).

Starlette's own error middleware stays outermost (it answers unhandled exceptions with the
problem handler from `app.errors`), and its exception middleware innermost.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware

from app.middleware.access_log import AccessLog
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.cors import CORSMiddleware
from app.middleware.edge import EdgeMiddleware
from app.middleware.head import HeadAsGetMiddleware
from app.middleware.https import HTTPSEnforcementMiddleware
from app.middleware.metrics import RequestMetrics
from app.middleware.rate_limit import RateLimitMiddleware
from app.middleware.request_context import RequestIds
from app.middleware.security_headers import SecurityHeaders
from app.middleware.trusted_host import TrustedHostMiddleware
from app.monitoring.request_stats import RequestStats
from app.security.ratelimit import Limit
from app.security.services import SecurityServices
from app.settings import Settings


def middleware_stack(
    settings: Settings,
    *,
    security: SecurityServices,
    request_stats: RequestStats | None,
    follow_otel: bool = False,
) -> list[Middleware]:
    """The middleware, outermost first; settings switch layers and parts off.

    The security layers share `security` (rate limiter, trusted proxies) with the routes; the
    metrics part feeds `request_stats` (given when ENABLE_PERFORMANCE_MONITORING is on), and the
    request context follows OpenTelemetry's span when `follow_otel`.
    """
    context = RequestIds(follow_otel=follow_otel) if settings.ENABLE_REQUEST_TRACING else None
    metrics = (
        RequestMetrics(slow_threshold=settings.SLOW_REQUEST_THRESHOLD, stats=request_stats)
        if request_stats is not None
        else None
    )
    headers = (
        SecurityHeaders(proxies=security.proxies) if settings.ENABLE_SECURITY_MIDDLEWARE else None
    )
    access = AccessLog(readable=settings.is_development) if AccessLog.enabled() else None
    stack: list[Middleware] = []
    if any(part is not None for part in (context, metrics, headers, access)):
        stack.append(
            Middleware(
                EdgeMiddleware, context=context, metrics=metrics, security=headers, access=access
            )
        )
    stack.extend(security_layers(settings, security))
    stack.append(Middleware(HeadAsGetMiddleware))
    return stack


def security_layers(settings: Settings, security: SecurityServices) -> list[Middleware]:
    """Layers 5-9: HTTPS, trusted host, CORS, body limit, rate limit."""
    layers: list[Middleware] = []
    if settings.ENABLE_SECURITY_MIDDLEWARE:
        if settings.https_enforced:
            layers.append(
                Middleware(
                    HTTPSEnforcementMiddleware,
                    proxies=security.proxies,
                    allowed_hosts=settings.ALLOWED_HOSTS,
                )
            )
        if "*" not in settings.ALLOWED_HOSTS:
            layers.append(Middleware(TrustedHostMiddleware, allowed_hosts=settings.ALLOWED_HOSTS))
        if settings.CORS_ORIGINS:
            layers.append(Middleware(CORSMiddleware, origins=settings.CORS_ORIGINS))
        layers.append(
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.MAX_BODY_SIZE,
                read_timeout=settings.BODY_READ_TIMEOUT,
            )
        )
    if settings.RATE_LIMIT_ENABLED:
        default = Limit(
            settings.RATE_LIMIT_REQUESTS, settings.RATE_LIMIT_WINDOW, settings.RATE_LIMIT_BURST
        )
        layers.append(
            Middleware(
                RateLimitMiddleware,
                security=security,
                default=default,
                routes=settings.RATE_LIMIT_ROUTES,
                exempt=settings.RATE_LIMIT_EXEMPT,
            )
        )
    return layers


def install_middleware(
    app: FastAPI,
    settings: Settings,
    *,
    security: SecurityServices,
    request_stats: RequestStats | None,
    follow_otel: bool = False,
) -> None:
    """Add `middleware_stack(...)` to `app`, keeping its order."""
    stack = middleware_stack(
        settings, security=security, request_stats=request_stats, follow_otel=follow_otel
    )
    # add_middleware puts each new layer outside the ones added before it.
    for layer in reversed(stack):
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
