"""Open311 GeoReport v2: API keys and what the API needs (issue 10).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
