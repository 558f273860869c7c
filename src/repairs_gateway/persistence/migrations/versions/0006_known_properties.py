"""Property references an address source answered (for sources that cannot look up by
UPRN), and repairs found by the works order a scheduler filed them under.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_properties",
        sa.Column("council_id", sa.String(length=63), primary_key=True),
        sa.Column("uprn", sa.String(length=12), primary_key=True),
        sa.Column("property_ref", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_repairs_council_works_order", "repairs", ["council_id", "works_order_ref"])


def downgrade() -> None:
    op.drop_index("ix_repairs_council_works_order", table_name="repairs")
    op.drop_table("known_properties")
