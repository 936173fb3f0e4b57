"""PostgreSQL: persons and households partitioned by snapshot (LIST on snapshot_id)

Publishing a snapshot attaches two partitions and pruning one drops them (loader.py,
retention.py). The partitions live in schema snapshot_parts. Existing rows are moved into one
partition per snapshot. SQLite keeps plain tables: nothing changes there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SCHEMA = "snapshot_parts"

HOUSEHOLDS = """
CREATE TABLE households (
    snapshot_id INTEGER NOT NULL,
    kk_hmac VARCHAR(32) NOT NULL,
    no_kk VARCHAR(16) NOT NULL,
    kode_desa VARCHAR(13) NOT NULL,
    alamat VARCHAR(200) NOT NULL,
    desil SMALLINT NOT NULL,
    CONSTRAINT pk_households PRIMARY KEY (snapshot_id, kk_hmac),
    CONSTRAINT ck_households_desil_range CHECK (desil BETWEEN 1 AND 10),
    CONSTRAINT fk_households_kode_desa_wilayah FOREIGN KEY (kode_desa) REFERENCES wilayah (code),
    CONSTRAINT fk_households_snapshot_id_snapshots FOREIGN KEY (snapshot_id)
        REFERENCES snapshots (id) ON DELETE CASCADE
) {partition}
"""
PERSONS = """
CREATE TABLE persons (
    snapshot_id INTEGER NOT NULL,
    nik_hmac VARCHAR(32) NOT NULL,
    kk_hmac VARCHAR(32) NOT NULL,
    position INTEGER NOT NULL,
    nik VARCHAR(16) NOT NULL,
    nama VARCHAR(100) NOT NULL,
    jenis_kelamin VARCHAR(1) NOT NULL,
    tanggal_lahir DATE NOT NULL,
    hubungan VARCHAR(20) NOT NULL,
    programs VARCHAR(100) NOT NULL,
    CONSTRAINT pk_persons PRIMARY KEY (snapshot_id, nik_hmac),
    CONSTRAINT fk_persons_snapshot_id_households FOREIGN KEY (snapshot_id, kk_hmac)
        REFERENCES households (snapshot_id, kk_hmac) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED
) {partition}
"""
INDEXES = (
    "CREATE INDEX ix_households_snapshot_id_kode_desa ON households (snapshot_id, kode_desa)",
    "CREATE INDEX ix_persons_snapshot_id_kk_hmac ON persons (snapshot_id, kk_hmac)",
)


def _rebuild(partitioned: bool) -> None:
    """Move persons and households into new tables (partitioned or plain) of the same name,
    constraints and indexes."""
    conn = op.get_bind()
    op.execute("ALTER TABLE persons RENAME TO persons_old")
    op.execute("ALTER TABLE households RENAME TO households_old")
    op.execute("ALTER TABLE persons_old DROP CONSTRAINT fk_persons_snapshot_id_households")
    op.execute("ALTER TABLE persons_old DROP CONSTRAINT pk_persons")
    op.execute("ALTER TABLE households_old DROP CONSTRAINT pk_households")
    op.execute("ALTER TABLE households_old DROP CONSTRAINT ck_households_desil_range")
    op.execute("DROP INDEX IF EXISTS ix_households_snapshot_id_kode_desa")
    op.execute("DROP INDEX IF EXISTS ix_persons_snapshot_id_kk_hmac")
    partition = "PARTITION BY LIST (snapshot_id)" if partitioned else ""
    op.execute(HOUSEHOLDS.format(partition=partition))
    op.execute(PERSONS.format(partition=partition))
    for statement in INDEXES:
        op.execute(statement)
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM snapshots ORDER BY id"))]
    for sid in ids if partitioned else ():
        for table in ("households", "persons"):
            op.execute(
                f"CREATE TABLE {SCHEMA}.{table}_{sid} PARTITION OF {table} FOR VALUES IN ({sid})"
            )
    op.execute("INSERT INTO households SELECT * FROM households_old")
    op.execute(
        "INSERT INTO persons (snapshot_id, nik_hmac, kk_hmac, position, nik, nama, "
        "jenis_kelamin, tanggal_lahir, hubungan, programs) SELECT snapshot_id, nik_hmac, "
        "kk_hmac, position, nik, nama, jenis_kelamin, tanggal_lahir, hubungan, programs "
        "FROM persons_old"
    )
    op.execute("DROP TABLE persons_old")
    op.execute("DROP TABLE households_old")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    # a LOADING snapshot has no rows worth moving (imports ran in one transaction)
    op.execute("DELETE FROM snapshots WHERE status = 'loading'")
    _rebuild(partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DELETE FROM snapshots WHERE status = 'loading'")
    _rebuild(partitioned=False)
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
