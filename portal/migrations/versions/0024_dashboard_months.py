"""the dashboard's months from maintained counts: appeal_filed_months, appeal_decided_months

The staff dashboard's last twelve months (cases filed and decided per month) were two grouped
queries over the cases of the scope: at a million cases, 0.5 s each on PostgreSQL, the page's
p95 1.1-1.9 s against the 100 ms of issue 11. Two summary tables kept by the triggers of
portal/review/summary.py (installed again here over every summary), filled from the cases.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 16:00:00
"""

import sqlalchemy as sa
from alembic import op

from portal.review import summary

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

NEW = ("appeal_filed_months", "appeal_decided_months")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in NEW:
        op.create_table(
            table,
            sa.Column("kabupaten_code", sa.String(length=5), nullable=False),
            sa.Column("month", sa.String(length=7), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("kabupaten_code", "month", name=op.f(f"pk_{table}")),
        )
    for statement in summary.drop_triggers(dialect):
        op.execute(statement)
    for statement in summary.rebuild_statements(dialect, NEW):
        op.execute(statement)
    for statement in summary.create_triggers(dialect, summary.TABLES_0024):
        op.execute(statement)
    if dialect == "postgresql":
        op.execute("ANALYZE appeal_filed_months, appeal_decided_months")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in summary.drop_triggers(dialect):
        op.execute(statement)
    for statement in summary.create_triggers(dialect, summary.TABLES_0013):
        op.execute(statement)
    for table in NEW:
        op.drop_table(table)
