"""The first answer to a createRepair sent with an Idempotency-Key, kept so that a retry is
answered exactly that (status code and body), as the spec promises, rather than the repair
as it is by then (a cancelled repair replayed as "201 cancelled").

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.add_column(sa.Column("first_answer", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.drop_column("first_answer")
