"""case list grants: "find my cases" kept on the server, revocable

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_list_grants",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("filer_nik_hmac", sa.String(length=32), nullable=False),
        sa.Column("filer_kk_hmac", sa.String(length=32), nullable=False),
        sa.Column("in_dtsen", sa.Boolean(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_case_list_grants"),
    )
    op.create_index("ix_case_list_grants_expires_at", "case_list_grants", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_case_list_grants_expires_at", table_name="case_list_grants")
    op.drop_table("case_list_grants")
