"""Baseball tables: teams, players, player-seasons (stats, WAR, contract) and salaries.

Revision ID: baseball_0001
Revises:
Create Date: 2026-11-29 03:38:53.142726
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "baseball_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("baseball",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "players",
        sa.Column("player_id", sa.String(length=16), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=False),
        sa.Column("last_name", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=128), nullable=False),
        sa.Column("sort_name", sa.String(length=130), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("bats", sa.String(length=1), nullable=True),
        sa.Column("throws", sa.String(length=1), nullable=True),
        sa.Column("debut", sa.Date(), nullable=True),
        sa.Column("primary_position", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("player_id", name=op.f("pk_players")),
    )
    with op.batch_alter_table("players", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_players_sort_name"), ["sort_name"], unique=False)

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.String(length=3), nullable=False),
        sa.Column("franchise", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("league", sa.String(length=2), nullable=False),
        sa.Column("division", sa.String(length=1), nullable=True),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.Column("runs_scored", sa.Integer(), nullable=False),
        sa.Column("runs_allowed", sa.Integer(), nullable=False),
        sa.Column("park", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("season", "team_key", name="uq_teams_season_team_key"),
    )
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.create_index(
            "ix_teams_season_league_division", ["season", "league", "division"], unique=False
        )

    op.create_table(
        "player_seasons",
        sa.Column("player_id", sa.String(length=16), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.String(length=3), nullable=False),
        sa.Column("league", sa.String(length=2), nullable=False),
        sa.Column("position", sa.String(length=2), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("plate_appearances", sa.Integer(), nullable=False),
        sa.Column("home_runs", sa.Integer(), nullable=False),
        sa.Column("stolen_bases", sa.Integer(), nullable=False),
        sa.Column("woba", sa.Float(), nullable=True),
        sa.Column("batting_runs", sa.Float(), nullable=False),
        sa.Column("innings_pitched", sa.Float(), nullable=False),
        sa.Column("strikeouts", sa.Integer(), nullable=False),
        sa.Column("fip", sa.Float(), nullable=True),
        sa.Column("war", sa.Float(), nullable=False),
        sa.Column("salary", sa.BigInteger(), nullable=True),
        sa.Column("salary_source", sa.String(length=16), nullable=True),
        sa.Column("service_years", sa.Float(), nullable=False),
        sa.Column("contract_status", sa.String(length=16), nullable=False),
        sa.Column("years_of_control", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.player_id"],
            name=op.f("fk_player_seasons_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("player_id", "season", name=op.f("pk_player_seasons")),
    )
    with op.batch_alter_table("player_seasons", schema=None) as batch_op:
        batch_op.create_index(
            "ix_player_seasons_season_position", ["season", "position"], unique=False
        )
        batch_op.create_index("ix_player_seasons_season_team", ["season", "team_key"], unique=False)
        batch_op.create_index(
            "ix_player_seasons_season_war", ["season", "war", "player_id"], unique=False
        )

    op.create_table(
        "salaries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.String(length=16), nullable=False),
        sa.Column("team_key", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["players.player_id"],
            name=op.f("fk_salaries_player_id_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salaries")),
    )
    with op.batch_alter_table("salaries", schema=None) as batch_op:
        batch_op.create_index("ix_salaries_season_team", ["season", "team_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("salaries", schema=None) as batch_op:
        batch_op.drop_index("ix_salaries_season_team")

    op.drop_table("salaries")
    with op.batch_alter_table("player_seasons", schema=None) as batch_op:
        batch_op.drop_index("ix_player_seasons_season_war")
        batch_op.drop_index("ix_player_seasons_season_team")
        batch_op.drop_index("ix_player_seasons_season_position")

    op.drop_table("player_seasons")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_index("ix_teams_season_league_division")

    op.drop_table("teams")
    with op.batch_alter_table("players", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_players_sort_name"))

    op.drop_table("players")
