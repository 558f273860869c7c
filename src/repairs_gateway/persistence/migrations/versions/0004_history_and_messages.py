"""A repair's history, its messages, the residents who joined it, and status polling.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.add_column(sa.Column("address_lines", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("contact_failed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_repairs_next_poll_at", ["next_poll_at"], unique=False)
    op.create_table(
        "repair_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repair_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["repair_id"], ["repairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_repair_events_repair_id", "repair_events", ["repair_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("repair_id", sa.Integer(), nullable=True),
        sa.Column("council_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("sender_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_messages_repair_id", "messages", ["repair_id"])
    op.create_index("ix_messages_sender_id", "messages", ["sender_id"])
    op.create_table(
        "repair_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repair_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=21), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("preferred_channel", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["repair_id"], ["repairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_repair_contacts_repair_id", "repair_contacts", ["repair_id"])


def downgrade() -> None:
    op.drop_table("repair_contacts")
    op.drop_table("messages")
    op.drop_table("repair_events")
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.drop_index("ix_repairs_next_poll_at")
        batch_op.drop_column("contact_failed")
        batch_op.drop_column("next_poll_at")
        batch_op.drop_column("address_lines")
