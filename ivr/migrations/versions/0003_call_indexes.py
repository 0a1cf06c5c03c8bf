"""Indexes for the lists staff and the CLI show (calls by start time and by outcome), and each call's turn count.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("turn_count", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_outcome_started_at", "calls", ["outcome", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_outcome_started_at", table_name="calls")
    op.drop_index("ix_calls_started_at", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("turn_count")
