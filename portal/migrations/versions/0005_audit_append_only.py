"""audit trail: hash-chained seals, append-only tables enforced by the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from portal.audit import chain

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_events", "audit_seals", "access_events")

# PostgreSQL: refuse UPDATE, DELETE and TRUNCATE of the append-only tables, whoever asks,
# unless the transaction says it is maintenance (SET LOCAL portal.audit_maintenance = 'on':
# a retention purge by the owner, the test suite). The app's own role has no UPDATE,
# DELETE or TRUNCATE privilege on them at all (flask db grant).
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('portal.audit_maintenance', true), '') = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# SQLite has neither roles nor settings: a row in audit_maintenance plays the setting.
SQLITE_TRIGGER = """
CREATE TRIGGER {table}_append_only_{op} BEFORE {op} ON {table}
WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END;
"""


def upgrade() -> None:
    op.create_table(
        "audit_seals",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_events.id"], name="fk_audit_seals_audit_id_audit_events"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_seals"),
        sa.UniqueConstraint("audit_id", name="uq_audit_seals_audit_id"),
    )
    chain_table = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain"),
    )
    op.create_table(
        "audit_maintenance", sa.Column("reason", sa.String(length=200), nullable=True)
    )
    seq, head = _seal_existing_rows()
    op.bulk_insert(chain_table, [{"id": 1, "seq": seq, "head": head}])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION portal_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION portal_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(SQLITE_TRIGGER.format(table=table, op=verb))


def _seal_existing_rows() -> tuple[int, str]:
    """Seal the rows written before this migration, in id order."""
    bind = op.get_bind()
    audit = sa.table("audit_events", *(sa.column(name) for name in chain.FIELDS))
    seals = sa.table(
        "audit_seals",
        sa.column("seq"),
        sa.column("audit_id"),
        sa.column("prev_hash"),
        sa.column("row_hash"),
    )
    seq, head = 0, chain.GENESIS
    rows = bind.execute(sa.select(audit).order_by(audit.c.id)).mappings()
    batch = []
    for row in rows:
        values = dict(row)
        values["at"] = _aware(values["at"])
        values["before"] = _json(values["before"])
        values["after"] = _json(values["after"])
        row_hash = chain.link(head, values)
        seq += 1
        batch.append({"seq": seq, "audit_id": row["id"], "prev_hash": head, "row_hash": row_hash})
        head = row_hash
    if batch:
        bind.execute(seals.insert(), batch)
    return seq, head


def _aware(value):
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS portal_append_only()")
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{verb}")
    op.drop_table("audit_maintenance")
    op.drop_table("audit_chain")
    op.drop_table("audit_seals")
