"""assisted filing at the desa office: appeals.channel and appeal_assists

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 22:10:00
"""

import sqlalchemy as sa
from alembic import op

from portal.db import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(10), nullable=False, server_default="web")
        )
    op.create_table(
        "appeal_assists",
        sa.Column(
            "appeal_id",
            sa.Integer(),
            sa.ForeignKey("appeals.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("kode_desa", sa.String(13), nullable=False),
        sa.Column("consent_version", sa.String(10), nullable=False),
        sa.Column("consent_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("assisted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sms_sent", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_appeal_assists_staff_id_assisted_at", "appeal_assists", ["staff_id", "assisted_at"]
    )


def downgrade() -> None:
    op.drop_table("appeal_assists")
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("channel")
