"""decisions taken against the evidence are kept with their note; standard explanations

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 22:10:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE (no batch copy): the counting triggers on appeals stay (0013)
    op.add_column("appeals", sa.Column("decision_conflicts", sa.String(200), nullable=True))
    op.add_column("appeals", sa.Column("decision_override_note", sa.Text(), nullable=True))
    op.create_table(
        "decision_explanations",
        sa.Column("kabupaten_code", sa.String(5), primary_key=True),
        sa.Column("decision_reason", sa.String(40), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("decision_explanations")
    # SQLite 3.35+ and PostgreSQL drop a column in place (the triggers stay)
    op.execute("ALTER TABLE appeals DROP COLUMN decision_override_note")
    op.execute("ALTER TABLE appeals DROP COLUMN decision_conflicts")
