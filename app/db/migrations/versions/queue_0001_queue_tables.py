"""Queue tasks and trade analyses.

Revision ID: queue_0001
Revises:
Create Date: 2026-11-29 03:40:43.540177
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "queue_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("queue",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_tasks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_retries", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("enqueued_at", sa.Double(), nullable=False),
        sa.Column("available_at", sa.Double(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_expires_at", sa.Double(), nullable=True),
        sa.Column("started_at", sa.Double(), nullable=True),
        sa.Column("finished_at", sa.Double(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_tasks")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_queue_tasks_dedupe_key")),
    )
    op.create_index(
        "ix_queue_tasks_claim", "queue_tasks", ["queue", "state", "priority", "enqueued_at"]
    )
    op.create_index("ix_queue_tasks_lease", "queue_tasks", ["state", "lease_expires_at"])

    op.create_table(
        "trade_analyses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=3), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("inflight_hash", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("completions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_analyses")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_trade_analyses_idempotency_key")),
        sa.UniqueConstraint("inflight_hash", name=op.f("uq_trade_analyses_inflight_hash")),
    )
    op.create_index("ix_trade_analyses_created_at", "trade_analyses", ["created_at"])
    op.create_index(op.f("ix_trade_analyses_request_hash"), "trade_analyses", ["request_hash"])


def downgrade() -> None:
    op.drop_table("trade_analyses")
    op.drop_table("queue_tasks")
