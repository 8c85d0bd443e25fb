"""Every Prometheus metric the service exports, defined once.

With several workers `btai serve` sets PROMETHEUS_MULTIPROC_DIR before the workers import
this module, so prometheus-client writes each worker's values to files that `/metrics` sums.
Gauges therefore name their multiprocess mode.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
SIZE_BUCKETS = (64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)

# --- HTTP ----------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from request start to the last body byte sent",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "http_requests_in_progress", "Requests being served", multiprocess_mode="livesum"
)
HTTP_REQUEST_SIZE = Histogram(
    "http_request_size_bytes", "Request body sizes", ["route"], buckets=SIZE_BUCKETS
)
HTTP_RESPONSE_SIZE = Histogram(
    "http_response_size_bytes", "Response body sizes", ["route"], buckets=SIZE_BUCKETS
)

# --- trade analyses and the queue ----------------------------------------------------------
TRADE_ANALYSES = Counter(
    "trade_analyses_total", "Trade analyses by outcome (queued, completed, failed)", ["state"]
)
TRADE_ANALYSES_RUNNING = Gauge(
    "trade_analyses_running", "Trade analyses being computed", multiprocess_mode="livesum"
)
TRADE_EVALUATIONS = Counter("trade_evaluations_total", "Synchronous trade evaluations")
QUEUE_DEPTH = Gauge(
    "queue_depth",
    "Pending tasks by queue and priority",
    ["queue", "priority"],
    multiprocess_mode="mostrecent",
)
QUEUE_TASKS = Counter("queue_tasks_total", "Queue tasks finished by outcome", ["queue", "outcome"])
QUEUE_TASK_DURATION = Histogram(
    "queue_task_duration_seconds", "Time one task ran", ["queue"], buckets=LATENCY_BUCKETS
)
QUEUE_RETRIES = Counter("queue_task_retries_total", "Task attempts that will be retried", ["queue"])
QUEUE_RUNNING = Gauge(
    "queue_tasks_running", "Tasks being run", ["queue"], multiprocess_mode="livesum"
)

# --- security ------------------------------------------------------------------------------
AUTH_EVENTS = Counter(
    "auth_events_total",
    "Authentication events (login_success, login_failure, lockout, ...)",
    ["event"],
)
RATE_LIMIT_REJECTIONS = Counter(
    "rate_limit_rejections_total", "Requests refused by the rate limiter", ["scope"]
)

# --- cache, database, AI provider ----------------------------------------------------------
CACHE_REQUESTS = Counter("cache_requests_total", "Cache look-ups by result", ["result"])
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use", "Database connections checked out", multiprocess_mode="livesum"
)
AI_CALLS = Counter(
    "ai_provider_calls_total", "AI provider calls by outcome", ["provider", "outcome"]
)
AI_TOKENS = Counter("ai_provider_tokens_total", "Tokens reported by the AI provider", ["kind"])
CIRCUIT_STATE = Gauge(
    "circuit_breaker_state",
    "0 closed, 1 half-open, 2 open",
    ["name"],
    multiprocess_mode="mostrecent",
)

# --- health --------------------------------------------------------------------------------
HEALTH_CHECK_STATUS = Gauge(
    "health_check_status",
    "Last result of each health check: 0 pass, 1 warn, 2 fail",
    ["check"],
    multiprocess_mode="mostrecent",
)
SYSTEM_UTILIZATION = Gauge(
    "system_utilization_percent",
    "CPU, memory and disk use seen by the health checks",
    ["resource"],
    multiprocess_mode="mostrecent",
)
ALERTS_ACTIVE = Gauge(
    "health_alerts_active",
    "Alerts raised and not yet resolved",
    ["severity"],
    multiprocess_mode="mostrecent",
)
