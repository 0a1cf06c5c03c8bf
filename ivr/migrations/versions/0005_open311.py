"""Open311 GeoReport v2: API keys and what the API needs (issue 10).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.String(100)),
    )
    op.create_table(
        "open311_requests",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("api_key_id", sa.Integer, sa.ForeignKey("open311_api_keys.id"), nullable=False),
        sa.Column("address_id", sa.String(100)),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("media_url", sa.String(500)),
    )
    op.create_index("ix_open311_requests_api_key_id", "open311_requests", ["api_key_id"])
    # GET requests lists newest first (id breaks ties) within a date window, optionally by type or status:
    # each filter reads one index range in order and stops at the page limit (bench/bench_open311.py).
    op.create_index("ix_cases_requested_at", "cases", ["requested_at", "id"])
    op.create_index("ix_cases_service_type_id_requested_at", "cases", ["service_type_id", "requested_at", "id"])
    op.create_index("ix_cases_status_requested_at", "cases", ["status", "requested_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_cases_status_requested_at", table_name="cases")
    op.drop_index("ix_cases_service_type_id_requested_at", table_name="cases")
    op.drop_index("ix_cases_requested_at", table_name="cases")
    op.drop_index("ix_open311_requests_api_key_id", table_name="open311_requests")
    op.drop_table("open311_requests")
    op.drop_table("open311_api_keys")
