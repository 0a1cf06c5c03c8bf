"""Departments, service types, case serials, cases and case events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("name_es", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "service_types",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("name_es", sa.String(120), nullable=False),
        sa.Column("description_en", sa.Text, nullable=False),
        sa.Column("keywords_en", sa.JSON, nullable=False),
        sa.Column("keywords_es", sa.JSON, nullable=False),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("requires_contact", sa.Boolean, nullable=False),
        sa.Column("sla_hours", sa.Integer),
        sa.Column("sla_days", sa.Integer),
        sa.Column("menu_key", sa.String(2)),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "case_serials",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,  # never reuse a serial, even after the newest row is deleted
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("service_type_id", sa.Integer, sa.ForeignKey("service_types.id"), nullable=False),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("recording_url", sa.String(500)),
        sa.Column("location", sa.String(300)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("contact_name", sa.String(120)),
        sa.Column("contact_phone", sa.String(32)),
        sa.Column("contact_email", sa.String(200)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("call_sid", sa.String(64)),
        sa.Column("intake_key", sa.String(100), unique=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_cases_number", "cases", ["number"], unique=True)
    op.create_index("ix_cases_department_id", "cases", ["department_id"])
    op.create_index("ix_cases_status", "cases", ["status"])
    op.create_index("ix_cases_call_sid", "cases", ["call_sid"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20)),
        sa.Column("note", sa.Text),
        sa.Column("public", sa.Boolean, nullable=False),
    )
    op.create_index("ix_case_events_case_id", "case_events", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_events")
    op.drop_table("cases")
    op.drop_table("case_serials")
    op.drop_table("service_types")
    op.drop_table("departments")
