"""Calls, call turns and emergency closures.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("from_number", sa.String(32)),
        sa.Column("to_number", sa.String(32)),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(64)),
        sa.Column("final_status", sa.String(32)),
        sa.Column("duration_seconds", sa.Integer),
        sa.Column("answers", sa.JSON, nullable=False),
    )
    op.create_index("ix_calls_call_sid", "calls", ["call_sid"], unique=True)
    op.create_table(
        "call_turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("input", sa.String(500)),
        sa.Column("next_node", sa.String(64)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_call_turns_call_id", "call_turns", ["call_id"])
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("message_en", sa.Text),
        sa.Column("message_es", sa.Text),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column("ended_by", sa.String(100)),
    )
    op.create_index("ix_closures_ended_at", "closures", ["ended_at"])


def downgrade() -> None:
    op.drop_table("closures")
    op.drop_table("call_turns")
    op.drop_table("calls")
