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

# The queues' lists read one index range in order for each filter and sort (see bench/bench_queue.py).
# "Not closed" is closed_at IS NULL: partial indexes of the open cases, read in order by both databases.
CASE_INDEXES = {
    "ix_cases_dept_open_requested": (["department_id", "requested_at", "id"], True),
    "ix_cases_dept_open_expected": (["department_id", "expected_at", "id"], True),
    "ix_cases_open_requested": (["requested_at", "id"], True),
    "ix_cases_open_expected": (["expected_at", "id"], True),
    "ix_cases_dept_status_requested": (["department_id", "status", "requested_at", "id"], False),
    "ix_cases_dept_requested": (["department_id", "requested_at", "id"], False),
    "ix_cases_contact_phone": (["contact_phone"], False),
}
OPEN_CASES = sa.text("closed_at IS NULL")


def upgrade() -> None:
    # The public note in Spanish, read to Spanish callers and shown by Open311 beside the English one.
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("note_es", sa.Text))
    for name, (columns, open_only) in CASE_INDEXES.items():
        where = {"sqlite_where": OPEN_CASES, "postgresql_where": OPEN_CASES} if open_only else {}
        op.create_index(name, "cases", columns, **where)
    # A caller who hung up mid-report, called back by staff: who, when, and what came of it.
    op.create_table(
        "call_backs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_by", sa.String(100), nullable=False),
        sa.Column("note", sa.String(500)),
    )


def downgrade() -> None:
    op.drop_table("call_backs")
    for name in reversed(CASE_INDEXES):
        op.drop_index(name, table_name="cases")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("note_es")
