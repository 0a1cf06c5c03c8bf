"""Case work in the staff console: Spanish public notes and what the desk and queues need (issue 9).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The public note in Spanish, read to Spanish callers and shown by Open311 beside the English one.
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("note_es", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("note_es")
