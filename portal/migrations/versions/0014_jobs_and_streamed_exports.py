"""background jobs; exports kept in chunks, with a status (made by a job when large)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 15:30:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("lease_until", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_run_after", ["status", "run_after"], unique=False)

    op.create_table(
        "export_chunks",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["exports.id"],
            name=op.f("fk_export_chunks_export_id_exports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("export_id", "seq", name=op.f("pk_export_chunks")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="ready")
        )
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("size_bytes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_exports_job_id_jobs"), "jobs", ["job_id"], ["id"]
        )
    # the exports made so far: their CSV becomes their one chunk
    octets = (
        "octet_length(content)"
        if op.get_bind().dialect.name == "postgresql"
        else "length(CAST(content AS BLOB))"
    )
    op.execute(
        "INSERT INTO export_chunks (export_id, seq, data) SELECT id, 0, content FROM exports"
    )
    op.execute(f"UPDATE exports SET size_bytes = {octets}")  # noqa: S608 (no input)
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_column("content")


def downgrade() -> None:
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    chunks = sa.table(
        "export_chunks", sa.column("export_id"), sa.column("seq"), sa.column("data")
    )
    exports = sa.table("exports", sa.column("id"), sa.column("content"))
    ids = [row[0] for row in bind.execute(sa.select(exports.c.id))]
    for ident in ids:  # a downgrade: one export at a time is fine
        parts = bind.execute(
            sa.select(chunks.c.data).where(chunks.c.export_id == ident).order_by(chunks.c.seq)
        ).scalars()
        bind.execute(
            exports.update().where(exports.c.id == ident).values(content="".join(parts))
        )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_exports_job_id_jobs"), type_="foreignkey")
        batch_op.drop_column("size_bytes")
        batch_op.drop_column("job_id")
        batch_op.drop_column("status")
    op.drop_table("export_chunks")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_run_after")
    op.drop_table("jobs")
