"""Player stints: a traded player's season kept apart per team.

Revision ID: baseball_stints
Revises: baseball_0001
Create Date: 2026-11-29 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "baseball_stints"
down_revision: str | Sequence[str] | None = "baseball_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "player_stints",
        sa.Column("player_id", sa.String(length=16), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.String(length=3), nullable=False),
        sa.Column("league", sa.String(length=2), nullable=False),
        sa.Column("role", sa.String(length=2), nullable=False),
        sa.Column("plate_appearances", sa.Integer(), nullable=False),
        sa.Column("innings_pitched", sa.Float(), nullable=False),
        sa.Column("war", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["player_id"], ["players.player_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("player_id", "season", "team_key"),
    )
    with op.batch_alter_table("player_stints", schema=None) as batch_op:
        batch_op.create_index("ix_player_stints_season_team", ["season", "team_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("player_stints", schema=None) as batch_op:
        batch_op.drop_index("ix_player_stints_season_team")
    op.drop_table("player_stints")
