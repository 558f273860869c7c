"""Initial tables: API clients, the address register, repairs and the built-in calendar.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_table(
        "calendar_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.String(length=63), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window", sa.String(length=11), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calendar_bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_bookings_reference"), ["reference"], unique=False)

    op.create_table(
        "calendar_load",
        sa.Column("council_id", sa.String(length=63), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("window", sa.String(length=11), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("council_id", "day", "window", "bucket"),
    )
    op.create_table(
        "register_addresses",
        sa.Column("council_id", sa.String(length=63), nullable=False),
        sa.Column("uprn", sa.String(length=12), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("property_ref", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("council_id", "uprn"),
    )
    with op.batch_alter_table("register_addresses", schema=None) as batch_op:
        batch_op.create_index("ix_register_addresses_postcode", ["council_id", "postcode"], unique=False)

    op.create_table(
        "api_client_councils",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["api_clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "council_id"),
    )
    op.create_table(
        "repairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("council_id", sa.String(length=63), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("uprn", sa.String(length=12), nullable=False),
        sa.Column("triage_path", sa.String(length=200), nullable=True),
        sa.Column("trade", sa.String(length=32), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("sor_code", sa.String(length=16), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("preferred_channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduler", sa.String(length=40), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_label", sa.String(length=40), nullable=True),
        sa.Column("backend_refs", sa.JSON(), nullable=False),
        sa.Column("works_order_ref", sa.String(length=64), nullable=True),
        sa.Column("in_flight", sa.Boolean(), nullable=False),
        sa.Column("backend_note", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_clients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council_id", "client_id", "idempotency_key", name="uq_repairs_idempotency"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("repairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repairs_council_id"), ["council_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("repairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repairs_council_id"))

    op.drop_table("repairs")
    op.drop_table("api_client_councils")
    with op.batch_alter_table("register_addresses", schema=None) as batch_op:
        batch_op.drop_index("ix_register_addresses_postcode")

    op.drop_table("register_addresses")
    op.drop_table("calendar_load")
    with op.batch_alter_table("calendar_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_bookings_reference"))

    op.drop_table("calendar_bookings")
    op.drop_table("api_clients")
