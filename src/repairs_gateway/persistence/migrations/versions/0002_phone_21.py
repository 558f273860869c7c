"""Widen repairs.contact_phone to 21 characters, the longest number the spec accepts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.alter_column(
            "contact_phone",
            existing_type=sa.String(length=20),
            type_=sa.String(length=21),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.alter_column(
            "contact_phone",
            existing_type=sa.String(length=21),
            type_=sa.String(length=20),
            existing_nullable=True,
        )
