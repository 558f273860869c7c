"""The same problem reported twice: open repairs found by property, and the Idempotency-Key
of a report that joined an open repair.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_repairs_council_uprn", "repairs", ["council_id", "uprn"])
    with op.batch_alter_table("repair_contacts") as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_repair_contacts_idempotency", ["client_id", "idempotency_key", "repair_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("repair_contacts") as batch_op:
        batch_op.drop_constraint("uq_repair_contacts_idempotency", type_="unique")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("client_id")
    op.drop_index("ix_repairs_council_uprn", table_name="repairs")
