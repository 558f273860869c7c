"""Addresses by postcode through one index at any register size, and revocable API keys.

The index on (council_id, postcode) left the order by uprn to a sort, so a planner with no
statistics preferred the primary key (council_id, uprn) for its order and scanned the whole
council. The new index answers the filter and the order alone; it replaces the old one,
which is its prefix. The register is analysed here so existing databases get statistics.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_register_addresses_postcode_uprn", "register_addresses", ["council_id", "postcode", "uprn"]
    )
    op.drop_index("ix_register_addresses_postcode", table_name="register_addresses")
    op.execute("ANALYZE register_addresses")
    with op.batch_alter_table("api_clients") as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_clients") as batch_op:
        batch_op.drop_column("revoked_at")
    op.create_index("ix_register_addresses_postcode", "register_addresses", ["council_id", "postcode"])
    op.drop_index("ix_register_addresses_postcode_uprn", table_name="register_addresses")
