"""Recorded conversations (issue 11): each recording's SID, so `ivr purge` can delete it at Twilio.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Apart from the calls: a recording Twilio failed to delete must outlive the purge of its call's details.
    op.create_table(
        "call_recordings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("recording_sid", sa.String(64), nullable=False, unique=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("duration_seconds", sa.Integer),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_call_recordings_call_sid", "call_recordings", ["call_sid"])
    op.create_index("ix_call_recordings_recorded_at", "call_recordings", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_call_recordings_recorded_at", "call_recordings")
    op.drop_index("ix_call_recordings_call_sid", "call_recordings")
    op.drop_table("call_recordings")
