# ruff: noqa
# type: ignore
"""Names that vulture (`make lint`) reports as unused but that are used: read by a framework
by name, or part of an interface only tests call. Never imported; each line marks a name used."""

_ = object()

# Columns of the ORM tables and fields of the response models and of the domain results they
# are built from: SQLAlchemy and pydantic read them, no Python code names them.
_.losses, _.runs_scored, _.runs_allowed, _.strikeouts, _.lease_owner, _.revoked_reason
_.issued_at, _.discounted_surplus, _.contract_signed, _.payroll_before, _.room_under_threshold
_.er, _.baserunning, _.league_adjustment, _.access_token, _.token_type, _.expires_in
_.refresh_expires_in, _.war_last_three, _.total_war, _.player_count, _.strengths
_.budget_limit, _.coalesced, _.status_url, _.checkov_skips, _.parent_span_id
_.media_type, _.background  # starlette's Response reads them

# Enum members chosen by configuration, never by name in code.
_.STAGING, _.uvicorn, _.granian

# Called by name from a string: uvicorn's and granian's app factories, logging's dictConfig,
# the serve subprocess, click's and Locust's and PyYAML's hooks, rich's Console stand-in.
_.create_worker_app, _.create_proxied_worker_app, _.root_handler, _._prepare_and_report
_.display_type, _._usage_display_name, _.wait_time, _.ignore_aliases, _.indentless
_._console, _.__class__, _.context_class  # click builds the root context from it
_.settings_cls, _.env_settings, _.dotenv_settings, _.file_secret_settings

# Public helpers that tests call and the service keeps: migrating a database synchronously,
# the first-year projection the valuation is built from, a WAR breakdown, token lifetime, the
# shutdown flag, and the edge layer's middleware as separate classes.
_.upgrade_sync, _.project_first_year, _.position_player_total, _.remaining_seconds, _.began
_.PerformanceMiddleware, _.SecurityHeadersMiddleware

# uvicorn calls its server's main loop, which the workers' server replaces, and its HTTP
# protocol's warning on an upgrade request, which the workers' protocol replaces.
_.main_loop, _._unsupported_upgrade_warning

# The whole league from one set of rows: what the model tests build from the embedded extract
# (tests/support/league.py); the service reads and builds it in chunks.
_.build_league

# The security dependencies offered to routers with a token always required (tested in
# tests/integration/test_security_deps.py); today's routes use the ENABLE_AUTH-aware ones.
_.AdminUser, _.AuthenticatedUser
