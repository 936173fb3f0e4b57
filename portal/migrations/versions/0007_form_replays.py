"""kept failed forms and look-up references (Post/Redirect/Get)

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-10 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_replays",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_form_replays"),
    )
    op.create_index("ix_form_replays_expires_at", "form_replays", ["expires_at"])
    op.create_table(
        "lookup_references",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("nik", sa.String(length=16), nullable=False),
        sa.Column("no_kk", sa.String(length=16), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_lookup_references"),
    )
    op.create_index("ix_lookup_references_expires_at", "lookup_references", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_lookup_references_expires_at", table_name="lookup_references")
    op.drop_table("lookup_references")
    op.drop_index("ix_form_replays_expires_at", table_name="form_replays")
    op.drop_table("form_replays")
