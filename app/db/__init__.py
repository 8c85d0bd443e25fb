"""Database layer: engines and pooled sessions, tables, repositories, alembic migrations."""
