"""staff pages at a million cases: indexes for each queue/count query, maintained counts

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02 15:30:00

Indexes that match the staff queries' filter and order (scope + due_at + id, with and without
status; desa; cluster; duplicates; escalation), and two summary tables kept by triggers on
``appeals`` (portal/review/summary.py), filled here from the existing cases.
"""

import sqlalchemy as sa
from alembic import op

from portal.review import summary

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_appeals_kabupaten_code_due_at_id", ["kabupaten_code", "due_at", "id"], None),
    (
        "ix_appeals_kabupaten_code_status_escalated_at",
        ["kabupaten_code", "status", "escalated_at"],
        None,
    ),
    ("ix_appeals_kode_desa_status_due_at_id", ["kode_desa", "status", "due_at", "id"], None),
    ("ix_appeals_kode_desa_due_at_id", ["kode_desa", "due_at", "id"], None),
    ("ix_appeals_status_due_at_id", ["status", "due_at", "id"], ["kabupaten_code"]),
    ("ix_appeals_due_at_id", ["due_at", "id"], None),
    ("ix_appeals_cluster_of_id", ["cluster_of_id"], None),
    ("ix_appeals_duplicate_of_id", ["duplicate_of_id"], None),
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_appeals_kabupaten_code_status_due_at", table_name="appeals")
    op.create_index(
        "ix_appeals_kabupaten_code_status_due_at_id",
        "appeals",
        ["kabupaten_code", "status", "due_at", "id"],
        postgresql_include=["kecamatan_code"],
    )
    for name, columns, include in INDEXES:
        op.create_index(name, "appeals", columns, postgresql_include=include or [])
    op.create_table(
        "appeal_counts",
        sa.Column("kabupaten_code", sa.String(length=5), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=8), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kabupaten_code",
            "kecamatan_code",
            "reason_code",
            "status",
            "decided",
            name=op.f("pk_appeal_counts"),
        ),
    )
    op.create_table(
        "appeal_open_due",
        sa.Column("kabupaten_code", sa.String(length=5), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=8), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kabupaten_code",
            "kecamatan_code",
            "due_on",
            "escalated",
            name=op.f("pk_appeal_open_due"),
        ),
    )
    op.create_table(
        "appeal_decision_hours",
        sa.Column("kabupaten_code", sa.String(length=5), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kabupaten_code", "hours", name=op.f("pk_appeal_decision_hours")),
    )
    for statement in summary.rebuild_statements(dialect):
        op.execute(statement)
    for statement in summary.create_triggers(dialect):
        op.execute(statement)
    if dialect == "postgresql":  # plan the first staff pages on real figures
        op.execute("ANALYZE appeal_counts, appeal_open_due, appeal_decision_hours")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in summary.drop_triggers(dialect):
        op.execute(statement)
    op.drop_table("appeal_decision_hours")
    op.drop_table("appeal_open_due")
    op.drop_table("appeal_counts")
    for name, _columns, _include in reversed(INDEXES):
        op.drop_index(name, table_name="appeals")
    op.drop_index("ix_appeals_kabupaten_code_status_due_at_id", table_name="appeals")
    op.create_index(
        "ix_appeals_kabupaten_code_status_due_at",
        "appeals",
        ["kabupaten_code", "status", "due_at"],
    )
