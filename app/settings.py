"""Every setting of the service, read once from the environment and an optional `.env` file.

`Settings` is built once (by `btai serve`, a test, or `get_settings()`) and passed into
`create_app(settings)`; no other module reads `os.environ`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.database_urls import normalise_database_url
from app.route_limits import parse_route_limits

# The one masking function; a leaf module (no app imports), re-exported for older callers.
from app.security.masking import mask_url as mask_url

# Values that must never reach a non-development deployment as the JWT signing key.
PLACEHOLDER_SECRETS = frozenset(
    {
        "your-production-secret-key",
        "your-secret-key",
        "change-me",
        "changeme",
        "secret",
        "development-only-secret-key-change-me-0123456789",
    }
)
DEV_JWT_SECRET = "development-only-secret-key-change-me-0123456789"  # noqa: S105
MIN_SECRET_BYTES = 32
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/btai.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


def _split_csv(value: Any) -> Any:
    """Lists come from the environment as comma-separated text (`a,b,c`) or JSON."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """The service's configuration. Field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=False,
        extra="ignore",
        validate_default=True,
    )

    # --- general -------------------------------------------------------------------------
    ENVIRONMENT: Environment = Field(
        Environment.DEVELOPMENT, description="development, staging or production."
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Lowest level that is logged (any case: debug, INFO)."
    )

    # --- performance (report: Performance Settings) --------------------------------------
    API_HOST: str = Field("127.0.0.1", description="Address the server binds to.")
    API_PORT: int = Field(8000, ge=1, le=65535, description="TCP port the server listens on.")
    API_WORKERS: int = Field(1, ge=1, le=64, description="Server worker processes.")
    GRACEFUL_TIMEOUT: float = Field(
        30.0, ge=0, description="Seconds in-flight requests and tasks get on shutdown."
    )
    WORKER_HEALTHCHECK_TIMEOUT: float = Field(
        15.0,
        gt=0,
        description="Seconds a uvicorn worker has to answer its supervisor's ping before it is "
        "deemed hung, killed and replaced; also what a worker restarted by SIGHUP has to "
        "become ready.",
    )
    SERVER: Literal["uvicorn", "granian"] = Field(
        "uvicorn", description="HTTP server used by `btai serve`."
    )
    LIMIT_CONCURRENCY: int | None = Field(
        None, ge=1, description="Connections a worker accepts at once before answering 503."
    )
    BACKLOG: int = Field(2048, ge=1, description="Listen backlog of the server socket.")
    HTTP_MAX_REQUEST_LINE: int = Field(
        4096, ge=256, le=65536, description="Longest request line in bytes (longer: 400)."
    )
    HTTP_MAX_HEADER_BYTES: int = Field(
        16384, ge=1024, le=1_048_576, description="Largest request header section in bytes (431)."
    )
    HTTP_MAX_HEADERS: int = Field(
        100, ge=8, le=1000, description="Most request header fields (more: 431)."
    )
    TRUSTED_PROXIES: CsvList = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Proxy addresses whose X-Forwarded-For/-Proto headers are believed.",
    )

    # --- database ------------------------------------------------------------------------
    DATABASE_URL: SecretStr = Field(
        SecretStr(DEFAULT_DATABASE_URL),
        description="sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB "
        "(postgresql:// and postgres:// mean asyncpg).",
    )
    DATABASE_READ_URL: SecretStr | None = Field(
        None, description="Optional read-replica URL for read-only queries."
    )
    DB_POOL_SIZE: int = Field(10, ge=1, description="Connections kept open per worker.")
    DB_MAX_OVERFLOW: int = Field(10, ge=0, description="Extra connections allowed under load.")
    DB_POOL_TIMEOUT: float = Field(
        10.0, gt=0, description="Seconds to wait for a pooled connection."
    )
    DB_CONNECT_TIMEOUT: float = Field(
        5.0, gt=0, description="Seconds to open one database connection before giving up."
    )
    DB_STATEMENT_TIMEOUT: float = Field(
        15.0,
        ge=0,
        description="Seconds one SQL statement may run (client and server side; 0: no limit).",
    )
    DB_BUSY_TIMEOUT: float = Field(
        5.0, ge=0, description="Seconds SQLite waits for another writer's lock."
    )
    DB_SCHEMA_LOCK_TIMEOUT: float = Field(
        600.0,
        gt=0,
        description="Seconds a process waits for another one's migration or seeding (the "
        "schema lock) before it gives up.",
    )
    DB_ECHO: bool = Field(False, description="Log every SQL statement.")
    DATA_SEASON: int = Field(2016, ge=1985, le=2100, description="Season seeded by default.")
    DATA_DIR: Path | None = Field(
        None,
        description="Folder of season extracts from `btai data import`, searched before the "
        "embedded data.",
    )

    # --- cache (report: Cache Settings) --------------------------------------------------
    REDIS_URL: SecretStr | None = Field(
        None, description="redis:// URL for the shared cache, rate limits and denylist."
    )
    ENABLE_CACHING: bool = Field(True, description="Cache team and player reads.")
    CACHE_TTL: int = Field(300, ge=1, description="Seconds a cached read lives.")
    CACHE_MAX_ENTRIES: int = Field(10_000, ge=1, description="Size of the in-process cache.")

    # --- queue ---------------------------------------------------------------------------
    QUEUE_MAX_WORKERS: int = Field(
        4, ge=1, le=64, description="Concurrent queue tasks per process."
    )
    QUEUE_MAX_RETRIES: int = Field(3, ge=0, description="Retries before a task is dead-lettered.")
    QUEUE_TASK_TIMEOUT: float = Field(120.0, gt=0, description="Seconds one task may run.")
    QUEUE_LEASE_SECONDS: float = Field(
        60.0, gt=0, description="A claimed task whose lease expires is run again."
    )
    QUEUE_POLL_INTERVAL: float = Field(0.5, gt=0, description="Seconds between idle polls.")

    # --- AI provider ---------------------------------------------------------------------
    AI_PROVIDER: Literal["local", "openai"] = Field(
        "local", description="`local` (the valuation model writes) or an OpenAI-compatible API."
    )
    AI_BASE_URL: str | None = Field(None, description="Base URL of the OpenAI-compatible API.")
    AI_API_KEY: SecretStr | None = Field(None, description="API key for AI_BASE_URL.")
    AI_MODEL: str = Field("gpt-4o-mini", description="Model name sent to the provider.")
    AI_TIMEOUT: float = Field(20.0, gt=0, description="Seconds one provider call may take.")
    AI_BREAKER_FAILURES: int = Field(5, ge=1, description="Failures that open the breaker.")
    AI_BREAKER_COOLDOWN: float = Field(
        30.0, gt=0, description="Seconds the breaker stays open before a trial call."
    )

    # --- security (report: Security Settings) --------------------------------------------
    JWT_SECRET_KEY: SecretStr = Field(
        SecretStr(DEV_JWT_SECRET),
        description="HS256 signing key, at least 32 bytes outside development.",
    )
    JWT_ISSUER: str = Field("btai", description="`iss` claim of issued tokens.")
    JWT_AUDIENCE: str = Field("btai-api", description="`aud` claim of issued tokens.")
    ACCESS_TOKEN_MINUTES: int = Field(15, ge=1, description="Lifetime of access tokens.")
    REFRESH_TOKEN_DAYS: int = Field(7, ge=1, description="Lifetime of refresh tokens.")
    ENABLE_AUTH: bool = Field(False, description="Require a bearer token on trade/admin routes.")
    PASSWORD_MIN_LENGTH: int = Field(12, ge=8, description="Shortest accepted password.")
    PASSWORD_MAX_LENGTH: int = Field(1024, ge=64, description="Longest accepted password.")
    PASSWORD_MIN_SCORE: int = Field(3, ge=0, le=4, description="Lowest zxcvbn score accepted.")
    MAX_LOGIN_ATTEMPTS: int = Field(5, ge=1, description="Failed logins before a lockout.")
    LOCKOUT_DURATION: int = Field(900, ge=1, description="Seconds a lockout lasts.")
    RATE_LIMIT_ENABLED: bool = Field(True, description="Apply rate limits.")
    RATE_LIMIT_REQUESTS: int = Field(100, ge=1, description="Requests allowed per window.")
    RATE_LIMIT_WINDOW: int = Field(60, ge=1, description="Rate-limit window in seconds.")
    RATE_LIMIT_BURST: int = Field(20, ge=0, description="Extra requests allowed in a burst.")
    RATE_LIMIT_BLOCK_SECONDS: int = Field(
        60, ge=1, description="First block for a client that keeps hitting the limit."
    )
    RATE_LIMIT_ROUTES: CsvList = Field(
        default_factory=lambda: [
            "POST /api/v1/auth/login=10/60/0",
            "POST /api/v1/auth/register=5/60/0",
        ],
        description="Per-route limits `[METHOD ]/path-prefix=REQUESTS/WINDOW[/BURST]`.",
    )
    RATE_LIMIT_EXEMPT: CsvList = Field(
        default_factory=lambda: ["/api/v1/health", "/metrics"],
        description="Path prefixes the rate limiter never counts (probes, scrapes).",
    )
    ENABLE_SECURITY_MIDDLEWARE: bool = Field(
        True, description="Security headers, HTTPS, host, CORS, body and rate-limit layers."
    )
    CORS_ORIGINS: CsvList = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated)."
    )
    ALLOWED_HOSTS: CsvList = Field(
        default_factory=lambda: ["*"], description="Host headers accepted (comma-separated)."
    )
    MAX_BODY_SIZE: int = Field(1_048_576, ge=1, description="Largest request body in bytes.")
    BODY_READ_TIMEOUT: float = Field(
        30.0, gt=0, description="Seconds a request body may stall before it is answered 408."
    )
    ENFORCE_HTTPS: bool | None = Field(
        None, description="Redirect/reject plain HTTP; defaults to on in production."
    )

    # --- monitoring (report: Monitoring Settings) ----------------------------------------
    ENABLE_PERFORMANCE_MONITORING: bool = Field(True, description="Latency metrics and logs.")
    ENABLE_REQUEST_TRACING: bool = Field(True, description="X-Request-ID and traceparent.")
    SLOW_REQUEST_THRESHOLD: float = Field(
        1.0, gt=0, description="Seconds after which a request is logged as slow."
    )
    METRICS_DIR: str | None = Field(
        None, description="prometheus multiprocess directory (set by `btai serve`)."
    )
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = Field(
        None, description="OTLP endpoint; spans are exported when set and the extra installed."
    )
    HEALTH_CHECK_TIMEOUT: float = Field(2.0, gt=0, description="Seconds one health check may take.")
    HEALTH_CACHE_SECONDS: float = Field(
        1.5, ge=0, description="Seconds a full health report is reused."
    )
    HEALTH_MONITOR_INTERVAL: float = Field(
        15.0, ge=0, description="Seconds between background health evaluations (0: off)."
    )
    ALERT_THRESHOLD_CPU: float = Field(90.0, gt=0, le=100, description="CPU % that warns.")
    ALERT_THRESHOLD_MEMORY: float = Field(90.0, gt=0, le=100, description="Memory % that warns.")
    ALERT_THRESHOLD_DISK: float = Field(90.0, gt=0, le=100, description="Disk % that warns.")
    ALERT_WEBHOOK_URL: AnyHttpUrl | None = Field(None, description="Receives alerts as JSON.")
    EXTERNAL_SERVICES: CsvList = Field(
        default_factory=list, description="URLs whose reachability the health report checks."
    )

    @field_validator(
        "TRUSTED_PROXIES",
        "CORS_ORIGINS",
        "ALLOWED_HOSTS",
        "EXTERNAL_SERVICES",
        "RATE_LIMIT_ROUTES",
        "RATE_LIMIT_EXEMPT",
        mode="before",
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _log_level_any_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("DATABASE_URL", "DATABASE_READ_URL", mode="before")
    @classmethod
    def _async_database_url(cls, value: Any) -> Any:
        # Checked before SQLAlchemy sees the URL, so a wrong driver is one line, not a traceback.
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return normalise_database_url(value) if isinstance(value, str) else value

    @field_validator("RATE_LIMIT_ROUTES")
    @classmethod
    def _route_limits(cls, value: list[str]) -> list[str]:
        parse_route_limits(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("CORS_ORIGINS")
    @classmethod
    def _explicit_origins(cls, value: list[str]) -> list[str]:
        # Tokens travel in headers, and the CORS layer refuses a wildcard at start-up: say so
        # here, where `config validate` can name it.
        if any(origin.strip() == "*" for origin in value):
            raise ValueError("CORS_ORIGINS must list origins explicitly, not '*'")
        return value

    @model_validator(mode="after")
    def _refuse_weak_secret_outside_development(self) -> Settings:
        if self.ENVIRONMENT is Environment.DEVELOPMENT:
            return self
        secret = self.JWT_SECRET_KEY.get_secret_value()
        if secret.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                f"JWT_SECRET_KEY is a placeholder; set a random secret of at least "
                f"{MIN_SECRET_BYTES} bytes outside development"
            )
        if len(secret.strip().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"JWT_SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes, blanks not counted; "
                f"set a longer random secret outside development"
            )
        return self

    # --- derived values ------------------------------------------------------------------
    @property
    def is_development(self) -> bool:
        return self.ENVIRONMENT is Environment.DEVELOPMENT

    @property
    def https_enforced(self) -> bool:
        if self.ENFORCE_HTTPS is None:
            return self.ENVIRONMENT is Environment.PRODUCTION
        return self.ENFORCE_HTTPS

    @property
    def database_url(self) -> str:
        return self.DATABASE_URL.get_secret_value()

    @property
    def redis_url(self) -> str | None:
        return self.REDIS_URL.get_secret_value() if self.REDIS_URL else None


def get_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and `.env`, with keyword overrides on top."""
    return Settings(**overrides)
