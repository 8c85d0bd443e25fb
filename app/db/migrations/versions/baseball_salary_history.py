"""Salary history of each seeded season's players, from which contracts are derived.

Revision ID: baseball_salary_history
Revises: baseball_stints
Create Date: 2026-11-29 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "baseball_salary_history"
down_revision: str | Sequence[str] | None = "baseball_stints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "salary_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("data_season", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.String(length=16), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("service_years", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.player_id"],
            name=op.f("fk_salary_history_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salary_history")),
    )
    with op.batch_alter_table("salary_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_salary_history_data_season_player", ["data_season", "player_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("salary_history", schema=None) as batch_op:
        batch_op.drop_index("ix_salary_history_data_season_player")
    op.drop_table("salary_history")
