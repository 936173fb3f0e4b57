"""contact of each kabupaten/kota's Dinas Sosial

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dinsos_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kabupaten_code", sa.String(length=5), nullable=False),
        sa.Column("office_name", sa.String(length=150), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("whatsapp", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("hours", sa.String(length=200), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kabupaten_code"],
            ["wilayah.code"],
            name="fk_dinsos_contacts_kabupaten_code_wilayah",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dinsos_contacts"),
        sa.UniqueConstraint("kabupaten_code", name="uq_dinsos_contacts_kabupaten_code"),
    )


def downgrade() -> None:
    op.drop_table("dinsos_contacts")
