"""the look-up's reference keeps what its result page shows (lookup_references.found)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 18:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lookup_references") as batch:
        batch.add_column(sa.Column("found", sa.JSON(), nullable=True))




def downgrade() -> None:
    with op.batch_alter_table("lookup_references") as batch:
        batch.drop_column("found")
