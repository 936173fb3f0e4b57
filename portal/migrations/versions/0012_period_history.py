"""period history: what changed per household and person between consecutive periods

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_changes",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("kk_hmac", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("previous_snapshot_id", sa.Integer(), nullable=False),
        sa.Column("desil_from", sa.SmallInteger(), nullable=True),
        sa.Column("desil_to", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_household_changes_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "kk_hmac", "kind", name=op.f("pk_household_changes")),
    )
    op.create_index("ix_household_changes_kk_hmac", "household_changes", ["kk_hmac"])
    op.create_table(
        "person_changes",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("nik_hmac", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("programs", sa.String(length=40), nullable=False),
        sa.Column("previous_snapshot_id", sa.Integer(), nullable=False),
        sa.Column("kk_hmac", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_person_changes_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "nik_hmac", "kind", name=op.f("pk_person_changes")),
    )
    op.create_index(
        "ix_person_changes_snapshot_id_kk_hmac", "person_changes", ["snapshot_id", "kk_hmac"]
    )


def downgrade() -> None:
    op.drop_table("person_changes")
    op.drop_table("household_changes")
