"""The repair's life cycle: leases and intents on repairs, key scopes, and the job queue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.add_column(sa.Column("window_ref", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempt", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("intent", sa.JSON(), nullable=True))
        batch_op.drop_column("in_flight")
        batch_op.create_index("ix_repairs_lease_until", ["lease_until"], unique=False)
        batch_op.create_index("ix_repairs_council_status", ["council_id", "status", "created_at"])
    with op.batch_alter_table("api_clients") as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), nullable=False, server_default="resident")
        )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("council_id", sa.String(length=63), nullable=True),
        sa.Column("repair_id", sa.Integer(), nullable=True),
        sa.Column("backend", sa.String(length=120), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.create_index("ix_jobs_claimable", ["state", "run_after"], unique=False)
        batch_op.create_index("ix_jobs_repair_id", ["repair_id"], unique=False)
        batch_op.create_index("ix_jobs_backend", ["backend"], unique=False)


def downgrade() -> None:
    op.drop_table("jobs")
    with op.batch_alter_table("api_clients") as batch_op:
        batch_op.drop_column("scope")
    with op.batch_alter_table("repairs") as batch_op:
        batch_op.drop_index("ix_repairs_council_status")
        batch_op.drop_index("ix_repairs_lease_until")
        batch_op.add_column(sa.Column("in_flight", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_column("intent")
        batch_op.drop_column("attempt")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("window_ref")
