"""another household reported by name, address (RT/RW) and desa; staff link it to DTSEN

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("subject_alamat", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("subject_rt", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("subject_rw", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("subject_kode_desa", sa.String(length=13), nullable=True))
        batch_op.add_column(sa.Column("subject_linked_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("subject_linked_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_appeals_subject_kode_desa_wilayah", "wilayah", ["subject_kode_desa"], ["code"]
        )
        batch_op.create_foreign_key(
            "fk_appeals_subject_linked_by_id_staff_users",
            "staff_users",
            ["subject_linked_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_constraint("fk_appeals_subject_linked_by_id_staff_users", type_="foreignkey")
        batch_op.drop_constraint("fk_appeals_subject_kode_desa_wilayah", type_="foreignkey")
        batch_op.drop_column("subject_linked_at")
        batch_op.drop_column("subject_linked_by_id")
        batch_op.drop_column("subject_kode_desa")
        batch_op.drop_column("subject_rw")
        batch_op.drop_column("subject_rt")
        batch_op.drop_column("subject_alamat")
        batch_op.drop_column("subject_name")
