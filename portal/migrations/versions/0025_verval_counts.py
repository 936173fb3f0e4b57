"""the queue's verval filters from maintained state: appeals.verval and appeal_verval_counts

Under a verval filter (issue 14: no field check, one asked, all answered) the queue counted
its statuses from the cases with an (anti-)semi-join to field_checks, and PostgreSQL sorted
every case of the scope for the page: at a million cases, p95 0.4-0.96 s against the 100 ms
of issue 11. Now each case says where its verval stands (``appeals.verval``, kept from its
field checks by triggers on field_checks), the cases with a field check are counted in a
summary kept by the triggers on appeals (installed again over every summary, watching
verval too), and a partial index lists them in due order. The triggers on appeals, the
statistics' too, now apply each summary's change in one statement on PostgreSQL.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 18:30:00
"""

import sqlalchemy as sa
from alembic import op

from portal.review import summary
from portal.statistik import cases

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

INDEX = "ix_appeals_checked_kabupaten_code_due_at_id"
CHECKED_SQL = "verval <> 'none'"  # as portal.appeals.models.CHECKED_SQL


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # a constant default: PostgreSQL adds it without rewriting the table
    op.add_column(
        "appeals", sa.Column("verval", sa.String(10), nullable=False, server_default="none")
    )
    op.create_table(
        "appeal_verval_counts",
        sa.Column("kabupaten_code", sa.String(length=5), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=8), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("verval", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kabupaten_code",
            "kecamatan_code",
            "reason_code",
            "status",
            "verval",
            name=op.f("pk_appeal_verval_counts"),
        ),
    )
    for statement in summary.drop_triggers(dialect):
        op.execute(statement)
    # the cases with a field check (the others stay 'none'), no summary trigger in the way
    op.execute(summary.set_verval("appeals.id IN (SELECT appeal_id FROM field_checks)"))
    for statement in summary.rebuild_statements(dialect, ("appeal_verval_counts",)):
        op.execute(statement)
    for statement in summary.create_triggers(dialect, summary.TABLES_0025):
        op.execute(statement)
    for statement in summary.create_verval_triggers(dialect):
        op.execute(statement)
    # the statistics' triggers on appeals again too: on PostgreSQL each summary's change is
    # now one statement over the transition tables instead of two (portal.counted.apply_delta)
    for statement in cases.drop_triggers(dialect) + cases.create_triggers(dialect):
        op.execute(statement)
    op.create_index(
        INDEX,
        "appeals",
        ["kabupaten_code", "due_at", "id"],
        postgresql_where=sa.text(CHECKED_SQL),
        sqlite_where=sa.text(CHECKED_SQL),
    )
    if dialect == "postgresql":
        op.execute("ANALYZE appeals, appeal_verval_counts")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in summary.drop_verval_triggers(dialect):
        op.execute(statement)
    for statement in summary.drop_triggers(dialect):
        op.execute(statement)
    for statement in summary.create_triggers(dialect, summary.TABLES_0024):
        op.execute(statement)
    op.drop_index(INDEX, "appeals")
    op.drop_table("appeal_verval_counts")
    # both engines drop a column in place (SQLite since 3.35): a batch copy of the table
    # would lose the triggers on it
    op.execute("ALTER TABLE appeals DROP COLUMN verval")
