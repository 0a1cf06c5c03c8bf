"""Call-back requests: a long wait, a message after hours, or no interpreter (issue 11).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="SET NULL")),
        sa.Column("phone", sa.String(32)),
        sa.Column("number_confirmed", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("need", sa.String(500)),
        sa.Column("recording_url", sa.String(500)),
        sa.Column("recording_sid", sa.String(64), unique=True),
        sa.Column("transcript", sa.Text),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("handled_by", sa.String(100)),
        sa.Column("handled_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.String(500)),
    )
    op.create_index("ix_callback_requests_call_id", "callback_requests", ["call_id"])
    # The desk and `ivr callbacks` read the open requests, due first.
    op.create_index("ix_callback_requests_status_due_at", "callback_requests", ["status", "due_at", "id"])


def downgrade() -> None:
    op.drop_table("callback_requests")
