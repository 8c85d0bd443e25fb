"""Alembic migrations, one branch per schema area."""
