"""the staff dashboard from maintained counts: months filed and decided, open cases by desa
and by officer

The staff dashboard's last twelve months (cases filed and decided per month), its desa table
and its officer table were grouped queries over the cases of the scope: at a million cases,
0.16-0.5 s each on PostgreSQL, the page's p95 1.1-1.9 s against the 100 ms of issue 11.
Four summary tables kept by the triggers of portal/review/summary.py (installed again here
over every summary, watching the desa and the officers too), filled from the cases; two
indexes find the oldest open case of a desa and of an officer with one probe per status, and
the queue's (kabupaten, status, due) index INCLUDEs the desa and the officer on PostgreSQL.

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

NEW = ("appeal_filed_months", "appeal_decided_months", "appeal_open_desa", "appeal_open_officer")
INDEXES: dict[str, list[str | sa.TextClause]] = {
    "ix_appeals_kode_desa_status_created_at": ["kode_desa", "status", "created_at"],
    "ix_appeals_kabupaten_code_status_assignee_created_at": [
        "kabupaten_code",
        "status",
        sa.text("coalesce(assigned_to_id, 0)"),
        "created_at",
    ],
}
QUEUE = "ix_appeals_kabupaten_code_status_due_at_id"  # its INCLUDE grows on PostgreSQL


def _table(name: str, *key: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("kabupaten_code", sa.String(length=5), nullable=False),
        *key,
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kabupaten_code", *(c.name for c in key), name=op.f(f"pk_{name}")
        ),
    )


def _queue_index(include: list[str]) -> None:
    op.drop_index(QUEUE, "appeals")
    op.create_index(
        QUEUE,
        "appeals",
        ["kabupaten_code", "status", "due_at", "id"],
        postgresql_include=include,
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _table("appeal_filed_months", sa.Column("month", sa.String(length=7), nullable=False))
    _table(
        "appeal_decided_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
    )
    _table(
        "appeal_open_desa",
        sa.Column("kode_desa", sa.String(length=13), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
    )
    _table(
        "appeal_open_officer",
        sa.Column("assigned_to", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "appeals", columns)
    if dialect == "postgresql":
        _queue_index(["kecamatan_code", "kode_desa", "assigned_to_id"])
    for statement in summary.drop_triggers(dialect):
        op.execute(statement)
    for statement in summary.rebuild_statements(dialect, NEW):
        op.execute(statement)
    for statement in summary.create_triggers(dialect, summary.TABLES_0024):
        op.execute(statement)
    if dialect == "postgresql":
        op.execute(f"ANALYZE {', '.join(NEW)}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in summary.drop_triggers(dialect):
        op.execute(statement)
    for statement in summary.create_triggers(dialect, summary.TABLES_0013):
        op.execute(statement)
    for name in INDEXES:
        op.drop_index(name, "appeals")
    if dialect == "postgresql":
        _queue_index(["kecamatan_code"])
    for table in NEW:
        op.drop_table(table)
